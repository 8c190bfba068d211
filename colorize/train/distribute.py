"""Where training computes: tf.distribute strategies, the device and the compiler.

:func:`make_strategy` turns ``--strategy auto|one|mirrored|multiworker`` into a
``tf.distribute`` strategy; :func:`multiworker_model` and :func:`build_before_fit` prepare
a model for ``fit`` under MultiWorkerMirroredStrategy; :func:`on_gpu` and :func:`jit_compile` answer for
any Keras backend. Training (:mod:`colorize.train.run`) is the one caller.

Example:
    >>> from colorize.train import distribute
    >>> strategy = distribute.make_strategy("auto")  # doctest: +SKIP
    >>> strategy.num_replicas_in_sync  # doctest: +SKIP
    1
"""

from __future__ import annotations

STRATEGIES = ("auto", "one", "mirrored", "multiworker")


def make_strategy(name: str):
    """Return a tf.distribute strategy.

    * "one": the default device.
    * "mirrored": every GPU of this host, or every logical CPU device when there is no
      GPU (so the path can be exercised on a CPU split into logical devices).
    * "multiworker": MultiWorkerMirroredStrategy across hosts described by TF_CONFIG.
    * "auto": mirrored when several GPUs are visible, else the default device.

    Example:
        >>> make_strategy("one").num_replicas_in_sync  # doctest: +SKIP
        1
    """
    import tensorflow as tf

    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if name == "mirrored":
        devices = gpus or [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy(devices=gpus)
    return tf.distribute.get_strategy()


def multiworker_model(model):
    """A model that ``fit`` can train under MultiWorkerMirroredStrategy: call this outside the scope.

    Keras 3's ``fit`` builds a model made inside a strategy's scope from the first
    distributed batch, which it reduces across workers: MultiWorkerMirroredStrategy cannot
    reduce a nested batch (keras-team/keras#20585). It also reduces each step's logs by a
    MEAN over axis 0, which a scalar lacks. So training fits a functional model made here,
    outside the scope, from the same layers (every variable shared: saving ``model`` saves
    what was trained), whose steps return their logs with one axis; it is compiled and
    built (:func:`build_before_fit`) inside the scope, and ``fit`` runs inside it too.

    Raises:
        ValueError: ``model`` is not a functional network (the GAN).
    """
    import keras
    import tensorflow as tf

    if not isinstance(getattr(model, "inputs", None), list):
        raise ValueError(f"--strategy multiworker trains functional models; {model.name!r} is not one")

    def one_axis(logs):
        return {name: tf.reshape(value, (1,)) for name, value in logs.items()}

    class MultiWorkerModel(keras.Model):
        def train_step(self, data):
            return one_axis(super().train_step(data))

        def test_step(self, data):
            return one_axis(super().test_step(data))

    return MultiWorkerModel(model.inputs, model.outputs, name=model.name)


def build_before_fit(model, strategy, data) -> None:
    """Build the model, loss, metrics and optimizer state from a local batch of ``data``, before ``fit``.

    Everything is built through public calls inside ``strategy.scope()``: the model on a
    batch, ``compute_loss``, ``compute_metrics``, ``optimizer.build``.
    """
    x, y = next(iter(data.take(1)))[:2]
    with strategy.scope():
        y_pred = model(x, training=False)
        model.compute_loss(x, y, y_pred)
        model.compute_metrics(x, y, y_pred, sample_weight=None)
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)


def on_gpu() -> bool:
    """Whether Keras' backend computes on a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def jit_compile(jit: bool) -> bool:
    """``--jit`` means XLA under TensorFlow and torch.compile under PyTorch; JAX always compiles its step."""
    import keras

    return True if keras.backend.backend() == "jax" else bool(jit)
