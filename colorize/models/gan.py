"""Seed 004's GAN: a colorizer (generator) trained against a discriminator on L+ab images.

Generator loss = binary cross-entropy of the discriminator's verdict on generated
images against "real" + ``l2_weight`` (0.1, the report's lambda) x L2 to the true ab.
Discriminator loss = BCE on real images (label 1) + BCE on generated ones (label 0).
Both networks are updated every step, or, with ``alternate=True``, in turns of
``alternate_every`` steps (the report swapped them every epoch).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from colorize import models as registry


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
    """Generator + discriminator with their own optimizers and ``train_step``.

    ``model.generator`` is a plain colorizer (l_input -> ab_output) that can be saved and
    used alone; :meth:`inference_model` returns it.
    """

    def __init__(self, generator, discriminator, l2_weight=0.1, alternate_every=100, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.l2_weight = float(l2_weight)
        self.alternate_every = int(alternate_every)
        self.alternate = False
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.l2_tracker = keras.metrics.Mean(name="loss")  # the generator's L2: "val_loss" for checkpoints
        self.bce = keras.losses.BinaryCrossentropy()

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, alternate=False, jit_compile=False, **kwargs):
        super().compile(jit_compile=jit_compile, **kwargs)
        self.generator_optimizer = generator_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.discriminator_optimizer = discriminator_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.alternate = bool(alternate)
        self.step_counter = tf.Variable(0, trainable=False, dtype=tf.int64)
        # Build both optimizers' slots now: updates may run inside tf.cond branches.
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)

    def get_compile_config(self):
        return {"alternate": self.alternate, "jit_compile": bool(getattr(self, "jit_compile", False))}

    def compile_from_config(self, config):
        """A loaded GAN is compiled again with fresh Adam optimizers and the saved schedule."""
        self.compile(alternate=bool(config.get("alternate", False)), jit_compile=bool(config.get("jit_compile", False)))

    @property
    def metrics(self):
        return [self.l2_tracker, self.g_loss_tracker, self.d_loss_tracker]

    def _gan_losses(self, l_scaled, ab_true, training):
        ab_fake = self.generator(l_scaled, training=training)
        real = ops.concatenate([l_scaled, ops.cast(ab_true, "float32")], axis=-1)
        fake = ops.concatenate([l_scaled, ops.cast(ab_fake, "float32")], axis=-1)
        p_real = self.discriminator(real, training=training)
        p_fake = self.discriminator(fake, training=training)
        l2 = ops.mean(ops.square(ops.cast(ab_true, "float32") - ops.cast(ab_fake, "float32")))
        g_loss = self.bce(ops.ones_like(p_fake), p_fake) + self.l2_weight * l2
        d_loss = self.bce(ops.ones_like(p_real), p_real) + self.bce(ops.zeros_like(p_fake), p_fake)
        return g_loss, d_loss, l2

    def train_step(self, data):
        l_scaled, ab_true = data[0], data[1]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            g_loss, d_loss, l2 = self._gan_losses(l_scaled, ab_true, training=True)
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_weights)

        def update_generator():
            self.generator_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
            return tf.constant(0)

        def update_discriminator():
            self.discriminator_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
            return tf.constant(0)

        if self.alternate:
            turn = (self.step_counter // self.alternate_every) % 2
            tf.cond(tf.equal(turn, 0), update_generator, update_discriminator)
        else:
            update_generator()
            update_discriminator()
        self.step_counter.assign_add(1)
        return self._update(g_loss, d_loss, l2)

    def test_step(self, data):
        g_loss, d_loss, l2 = self._gan_losses(data[0], data[1], training=False)
        return self._update(g_loss, d_loss, l2)

    def _update(self, g_loss, d_loss, l2):
        self.g_loss_tracker.update_state(g_loss)
        self.d_loss_tracker.update_state(d_loss)
        self.l2_tracker.update_state(l2)
        return {metric.name: metric.result() for metric in self.metrics}

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


def build_gan(
    image_size: int = 128,
    generator: str = "resnet50",
    l2_weight: float = 0.1,
    discriminator_width: float = 1.0,
    alternate_every: int = 100,
    **generator_options,
) -> ColorizationGAN:
    """Seed 004's GAN: a registered colorizer as generator (ResNet-50 by default) + a CNN discriminator.

    Args:
        image_size: image height/width.
        generator: a registered model name for the generator ("resnet50" as in the report,
            "unet" for a lighter one).
        l2_weight: lambda in BCE + lambda * L2.
        discriminator_width: multiplies the discriminator's filters.
        alternate_every: with ``compile(alternate=True)``, steps per turn.
        **generator_options: passed to the generator's builder.
    """
    network = registry.build_model(generator, image_size=image_size, **generator_options)
    discriminator = build_discriminator(image_size, discriminator_width)
    gan = ColorizationGAN(network, discriminator, l2_weight=l2_weight, alternate_every=alternate_every, name="gan")
    gan.build((None, image_size, image_size, 1))
    return gan
