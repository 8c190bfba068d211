"""The GAN of the DigiFace report (Chung et al.): a colorizer trained against a discriminator.

The generator colorizes L; the discriminator judges L+ab images.

Generator loss = binary cross-entropy of the discriminator's verdict on generated
images against "real" + ``l2_weight`` (0.1, the report's lambda) x L2 to the true ab.
Discriminator loss = BCE on real images (label 1) + BCE on generated ones (label 0).
Both networks are updated every step, or, with ``alternate=True``, in turns of
``alternate_every`` steps (the report swapped them every epoch).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from colorize import registry


def build_discriminator(image_size: int = 128, width: float = 1.0) -> keras.Model:
    """A CNN on the full L+ab image (scaled, 3 channels) -> probability that it is real."""
    inputs = keras.Input((image_size, image_size, 3), name="lab_input")
    x = inputs
    for index, filters in enumerate((64, 128, 256, 256), start=1):
        x = layers.Conv2D(max(2, int(round(filters * width))), 4, strides=2, padding="same", name=f"disc{index}_conv")(x)
        if index > 1:
            x = layers.BatchNormalization(name=f"disc{index}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"disc{index}_lrelu")(x)
    x = layers.GlobalAveragePooling2D(name="disc_pool")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="real_probability", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="discriminator")


@keras.saving.register_keras_serializable(package="colorize")
class ColorizationGAN(keras.Model):
    """Generator + discriminator with their own optimizers and ``train_step``, on any Keras backend.

    ``model.generator`` is a plain colorizer (l_input -> ab_output) that can be saved and
    used alone; :meth:`inference_model` returns it.

    The losses are written once in ``keras.ops`` (:meth:`_gan_losses`); the step that turns
    them into updates follows the Keras guide for each backend ("Customizing what happens
    in fit()"): ``tf.GradientTape`` under TensorFlow, ``torch.autograd`` under PyTorch, and
    the stateless ``train_step(state, data)`` under JAX. The two Adam optimizers are the
    parts of one ``keras.optimizers.MultiOptimizer`` (``model.optimizer``), so every
    backend carries, saves and restores both; the alternation's step counter is a Keras
    variable of the model (saved with it, restored by ``--resume``).
    """

    def __init__(self, generator, discriminator, l2_weight=0.1, alternate_every=100, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.l2_weight = float(l2_weight)
        self.alternate_every = int(alternate_every)
        self.alternate = False
        self.step_counter = self.add_variable(
            (), initializer="zeros", dtype="int32", trainable=False, name="step_counter"
        )
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.l2_tracker = keras.metrics.Mean(name="loss")  # the generator's L2: "val_loss" for checkpoints
        self.bce = keras.losses.BinaryCrossentropy()

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, alternate=False, jit_compile=False, **kwargs):
        self.generator_optimizer = generator_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.discriminator_optimizer = discriminator_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.alternate = bool(alternate)
        # One optimizer for Keras (its variables are what JAX carries and what is saved): each
        # discriminator variable maps to the discriminator's Adam, the rest to the generator's.
        selector = keras.optimizers.OptimizerMap(
            self.generator_optimizer, {v.path: self.discriminator_optimizer for v in self.discriminator.trainable_variables}
        )
        super().compile(optimizer=keras.optimizers.MultiOptimizer(selector), jit_compile=jit_compile, **kwargs)
        # Build both optimizers' slots now: updates may run inside conditional branches.
        self.optimizer.build(self.generator.trainable_variables + self.discriminator.trainable_variables)

    def get_compile_config(self):
        return {"alternate": self.alternate, "jit_compile": bool(getattr(self, "jit_compile", False))}

    def compile_from_config(self, config):
        """A loaded GAN is compiled again with fresh Adam optimizers and the saved schedule."""
        self.compile(alternate=bool(config.get("alternate", False)), jit_compile=bool(config.get("jit_compile", False)))

    @property
    def metrics(self):
        return [self.l2_tracker, self.g_loss_tracker, self.d_loss_tracker]

    # -- the losses, once, in keras.ops ---------------------------------------------------------

    def _gan_losses(self, l_scaled, ab_true, training):
        """(generator loss, discriminator loss, L2) of one batch; one forward pass of each network."""
        ab_true = ops.cast(ab_true, "float32")
        ab_fake = ops.cast(self.generator(l_scaled, training=training), "float32")
        l_scaled = ops.cast(l_scaled, "float32")
        p_real = self.discriminator(ops.concatenate([l_scaled, ab_true], axis=-1), training=training)
        p_fake = self.discriminator(ops.concatenate([l_scaled, ab_fake], axis=-1), training=training)
        l2 = ops.mean(ops.square(ab_true - ab_fake))
        g_loss = self.bce(ops.ones_like(p_fake), p_fake) + self.l2_weight * l2
        d_loss = self.bce(ops.ones_like(p_real), p_real) + self.bce(ops.zeros_like(p_fake), p_fake)
        return g_loss, d_loss, l2

    def _generator_turn(self):
        """True while the generator is updated in the alternating schedule."""
        return ops.equal((self.step_counter.value // self.alternate_every) % 2, 0)

    def _update(self, g_loss, d_loss, l2):
        self.g_loss_tracker.update_state(g_loss)
        self.d_loss_tracker.update_state(d_loss)
        self.l2_tracker.update_state(l2)
        return {metric.name: metric.result() for metric in self.metrics}

    # -- one training step per backend ----------------------------------------------------------

    def train_step(self, *args):
        backend = keras.backend.backend()
        if backend == "jax":
            return self._train_step_jax(*args)
        if backend == "torch":
            return self._train_step_torch(*args)
        return self._train_step_tensorflow(*args)

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            state, data = args
            trainable, non_trainable, metrics_values = state
            mapping = zip(
                self.trainable_variables + self.non_trainable_variables + self.metrics_variables,
                [*trainable, *non_trainable, *metrics_values],
            )
            with keras.StatelessScope(state_mapping=list(mapping)) as scope:
                logs = self._update(*self._gan_losses(data[0], data[1], training=False))
            return logs, (trainable, non_trainable, _current(scope, self.metrics_variables))
        data = args[0]
        return self._update(*self._gan_losses(data[0], data[1], training=False))

    def _apply_updates(self, g_grads, d_grads):
        """Stateful updates (TensorFlow, PyTorch): both networks, or the one whose turn it is."""
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables

        def update_generator():
            self.generator_optimizer.apply(g_grads, g_vars)
            return ops.zeros(())

        def update_discriminator():
            self.discriminator_optimizer.apply(d_grads, d_vars)
            return ops.zeros(())

        if self.alternate:
            ops.cond(self._generator_turn(), update_generator, update_discriminator)
        else:
            update_generator()
            update_discriminator()
        self.optimizer.iterations.assign_add(1)
        self.step_counter.assign_add(1)

    def _train_step_tensorflow(self, data):
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            g_loss, d_loss, l2 = self._gan_losses(data[0], data[1], training=True)
        g_grads = tape.gradient(g_loss, self.generator.trainable_variables)
        d_grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        del tape
        self._apply_updates(g_grads, d_grads)
        return self._update(g_loss, d_loss, l2)

    def _train_step_torch(self, data):
        import torch

        g_loss, d_loss, l2 = self._gan_losses(data[0], data[1], training=True)
        grads = []
        for loss, network in ((g_loss, self.generator), (d_loss, self.discriminator)):
            values = [v.value for v in network.trainable_variables]
            found = torch.autograd.grad(loss, values, retain_graph=True, allow_unused=True)
            grads.append([torch.zeros_like(v) if g is None else g for g, v in zip(found, values)])
        with torch.no_grad():
            self._apply_updates(*grads)
        return self._update(g_loss.detach(), d_loss.detach(), l2.detach())

    def _train_step_jax(self, state, data):
        import jax

        trainable, non_trainable, optimizer_values, metrics_values = state
        g_index = _positions(self.trainable_variables, self.generator.trainable_variables)
        d_index = _positions(self.trainable_variables, self.discriminator.trainable_variables)

        def losses(g_values, d_values):
            values = list(trainable)
            for index, value in zip(g_index + d_index, [*g_values, *d_values]):
                values[index] = value
            mapping = zip(self.trainable_variables + self.non_trainable_variables, [*values, *non_trainable])
            with keras.StatelessScope(state_mapping=list(mapping)) as scope:
                g_loss, d_loss, l2 = self._gan_losses(data[0], data[1], training=True)
            return (g_loss, d_loss), (l2, _current(scope, self.non_trainable_variables))

        g_values, d_values = [trainable[i] for i in g_index], [trainable[i] for i in d_index]
        (g_loss, d_loss), backward, (l2, non_trainable) = jax.vjp(losses, g_values, d_values, has_aux=True)
        g_grads = backward((ops.ones_like(g_loss), ops.zeros_like(d_loss)))[0]
        d_grads = backward((ops.zeros_like(g_loss), ops.ones_like(d_loss)))[1]

        g_slots = _positions(self.optimizer.variables, self.generator_optimizer.variables)
        d_slots = _positions(self.optimizer.variables, self.discriminator_optimizer.variables)
        g_state = [optimizer_values[i] for i in g_slots]
        d_state = [optimizer_values[i] for i in d_slots]

        def update_generator():
            return (*self.generator_optimizer.stateless_apply(g_state, g_grads, g_values), d_values, d_state)

        def update_discriminator():
            return (g_values, g_state, *self.discriminator_optimizer.stateless_apply(d_state, d_grads, d_values))

        if self.alternate:
            step = non_trainable[_positions(self.non_trainable_variables, [self.step_counter])[0]]
            turn = ops.equal((step // self.alternate_every) % 2, 0)
            g_values, g_state, d_values, d_state = jax.lax.cond(turn, update_generator, update_discriminator)
        else:
            g_values, g_state = update_generator()[:2]
            d_values, d_state = update_discriminator()[2:]

        trainable, optimizer_values, non_trainable = list(trainable), list(optimizer_values), list(non_trainable)
        for index, value in zip(g_index + d_index, [*g_values, *d_values]):
            trainable[index] = value
        for index, value in zip(g_slots + d_slots, [*g_state, *d_state]):
            optimizer_values[index] = value
        iterations = _positions(self.optimizer.variables, [self.optimizer.iterations])[0]
        optimizer_values[iterations] = optimizer_values[iterations] + 1
        counter = _positions(self.non_trainable_variables, [self.step_counter])[0]
        non_trainable[counter] = non_trainable[counter] + 1
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, metrics_values))) as scope:
            logs = self._update(g_loss, d_loss, l2)
        return logs, (trainable, non_trainable, optimizer_values, _current(scope, self.metrics_variables))

    def inference_model(self):
        return self.generator

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "l2_weight": self.l2_weight,
            "alternate_every": self.alternate_every,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        discriminator = keras.saving.deserialize_keras_object(config.pop("discriminator"))
        return cls(generator, discriminator, **config)


def _positions(variables, subset) -> list[int]:
    """Indices in ``variables`` of each variable of ``subset`` (by identity), in ``subset``'s order."""
    index = {id(variable): position for position, variable in enumerate(variables)}
    return [index[id(variable)] for variable in subset]


def _current(scope, variables) -> list:
    """The values a StatelessScope holds for ``variables`` (their own value where it holds none)."""
    values = []
    for variable in variables:
        value = scope.get_current_value(variable)
        values.append(variable.value if value is None else value)
    return values


def build_gan(
    image_size: int = 128,
    generator: str = "resnet50",
    l2_weight: float = 0.1,
    discriminator_width: float = 1.0,
    alternate_every: int = 100,
    **generator_options,
) -> ColorizationGAN:
    """The DigiFace report's GAN: a registered colorizer as generator (ResNet-50 by default) + a CNN discriminator.

    Args:
        image_size: image height/width.
        generator: a registered model name for the generator ("resnet50" as in the report,
            "unet" for a lighter one).
        l2_weight: lambda in BCE + lambda * L2.
        discriminator_width: multiplies the discriminator's filters.
        alternate_every: with ``compile(alternate=True)``, steps per turn.
        **generator_options: passed to the generator's builder.
    """
    network = registry.get(generator).resolve_builder()(image_size=image_size, **generator_options)
    discriminator = build_discriminator(image_size, discriminator_width)
    gan = ColorizationGAN(network, discriminator, l2_weight=l2_weight, alternate_every=alternate_every, name="gan")
    gan.build((None, image_size, image_size, 1))
    return gan
