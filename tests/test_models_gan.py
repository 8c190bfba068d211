"""colorize.models.gan: the GAN's training step, its schedule, saving, and the discriminator."""

import keras
import numpy as np

from colorize import models
from conftest import random_batch, save_load_same


def _changed(before, network):  # trainable weights only: batch-norm statistics move in either turn
    return any(not np.array_equal(old, new) for old, new in zip(before, _trainable(network)))


def _trainable(network):
    return [np.asarray(weight) for weight in network.trainable_weights]


def test_gan_alternates_trains_saves_and_exposes_its_generator(tmp_path):
    x, ab = random_batch()
    gan = models.build_model("gan", image_size=32, generator="unet", base_filters=2, depth=2, discriminator_width=0.0625,
                             alternate_every=1)  # fmt: skip
    gan.compile(alternate=True)
    generator, discriminator = _trainable(gan.generator), _trainable(gan.discriminator)
    gan.fit(x, ab, batch_size=2, epochs=1, verbose=0)  # step 0: the generator's turn
    assert _changed(generator, gan.generator) and not _changed(discriminator, gan.discriminator)
    generator = _trainable(gan.generator)
    history = gan.fit(x, ab, batch_size=2, epochs=1, validation_data=(x, ab), verbose=0)  # step 1: the discriminator's
    assert _changed(discriminator, gan.discriminator) and not _changed(generator, gan.generator)
    assert {"g_loss", "d_loss", "loss", "val_loss"} <= set(history.history)
    assert all(np.isfinite(v) for values in history.history.values() for v in values)
    save_load_same(gan, x, tmp_path)
    assert models.as_inference_model(gan) is gan.generator
    assert gan.generator.output_shape == (None, 32, 32, 2)
    clone = gan.__class__.from_config(gan.get_config())
    assert clone.l2_weight == 0.1 and clone.alternate_every == 1


def test_gan_without_alternation_updates_both_networks():
    x, ab = random_batch()
    gan = models.build_model("gan", image_size=32, generator="unet", base_filters=2, depth=2, discriminator_width=0.0625)
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-3), discriminator_optimizer=keras.optimizers.Adam(1e-3))
    generator, discriminator = _trainable(gan.generator), _trainable(gan.discriminator)
    logs = gan.train_on_batch(x, ab, return_dict=True)
    assert _changed(generator, gan.generator) and _changed(discriminator, gan.discriminator)
    assert set(logs) == {"loss", "g_loss", "d_loss"}


def test_discriminator_outputs_a_probability():
    from colorize.models.gan import build_discriminator

    discriminator = build_discriminator(32, width=0.125)
    output = np.asarray(discriminator(np.zeros((2, 32, 32, 3), "float32")))
    assert output.shape == (2, 1) and np.all((output >= 0) & (output <= 1))
