"""colorize.models.unet: the U-Net's skip connections and the U-Net trunk with the classification head."""

import keras
import numpy as np
import pytest
from conftest import random_batch, save_load_same

from colorize import losses, models
from colorize.models import classification


def test_skip_connections_are_found_by_name():
    model = models.build_model("unet", image_size=32, base_filters=2, depth=2)
    concat = model.get_layer("decoder1_concat")
    sources = {node.operation.name for tensor in concat.input for node in [tensor._keras_history]}
    assert "encoder1_relu2" in sources


def test_unet_classification_bins_at_half_resolution_and_size_free_inference(tmp_path):
    x, ab = random_batch()
    q = classification.AbQuantizer().num_bins
    model = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    assert model.output_shape == (None, 16, 16, q)
    assert model.get_layer("ab_bins").dtype_policy.compute_dtype == "float32"
    full = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, output_level=0)
    assert full.output_shape == (None, 32, 32, q)
    # Eager: one step of a tiny model costs less than tracing its training graph.
    model.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(l1_weight=10.0), run_eagerly=True)
    model.fit(x, ab, epochs=1, verbose=0)
    save_load_same(model, x, tmp_path)
    inference = models.as_inference_model(model)
    assert inference.output_shape == (None, 32, 32, 2)
    # Built without a size, the decoding still upsamples by the measured stride (2), not a guess.
    free = models.build_model("unet_classification", image_size=None, base_filters=4, depth=2)
    free_inference = models.as_inference_model(free)
    assert tuple(free_inference(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 48, 64, 2)
    # ... and traces once for any size (predict's shape-relaxed graph), unlike bilinear UpSampling2D.
    import tensorflow as tf

    graph = tf.function(lambda batch: free_inference(batch), input_signature=[tf.TensorSpec((None, None, None, 1))])
    for shape in ((1, 48, 64, 1), (2, 32, 96, 1)):
        probe = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
        np.testing.assert_allclose(np.asarray(graph(probe)), np.asarray(free_inference(probe)), atol=1e-5)
    path = tmp_path / "inference.keras"
    free_inference.save(path)
    assert keras.saving.load_model(path, compile=False).get_layer("ab_output").factor == 2
    with pytest.raises(ValueError, match="output_level"):
        models.build_model("unet_classification", image_size=32, depth=2, output_level=2)


def test_unet_classification_global_context_and_attention_start_at_the_model_without_them(tmp_path):
    # Iizuka et al. (2016)'s global fusion, zero start: built with the branch and given the weights of a
    # model without it (as --init-weights does, by layer name), it predicts exactly what that model does.
    # Then SAGAN-like self-attention at the bottleneck (its projection from zero) added the same way to
    # that trained model with global context (the bundled default's architecture).
    from colorize.errors import ColorizeError
    from colorize.train.compile import load_initial_weights

    x, ab = random_batch()
    plain = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2)
    plain.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(), run_eagerly=True)
    plain.fit(x, ab, epochs=1, verbose=0)  # trained: its batch-norm statistics are not the initial ones
    plain.save(tmp_path / "plain.keras")
    context = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, global_context=True)
    names = [layer.name for layer in context.layers]
    for name in ("global_pool", "global_dense1", "global_dense2", "global_fusion"):
        assert name in names
    assert names.index("global_fusion") < names.index("decoder2_up")
    load_initial_weights(context, str(tmp_path / "plain.keras"))
    np.testing.assert_array_equal(np.asarray(context(x, training=False)), np.asarray(plain(x, training=False)))
    # The branch learns: after a step it is no longer zero, and the .keras round trip keeps it.
    context.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(), run_eagerly=True)
    context.fit(x, ab, epochs=1, verbose=0)
    assert np.abs(context.get_layer("global_dense2").get_weights()[0]).max() > 0
    save_load_same(context, x, tmp_path)
    # The other way round is refused: a saved layer the model lacks is named.
    context.save(tmp_path / "context.keras")
    with pytest.raises(ColorizeError, match="global_dense1"):
        load_initial_weights(plain, str(tmp_path / "context.keras"))
    # Built without a size it runs at any size (the pooled vector is broadcast over the bottleneck grid).
    free = models.build_model("unet_classification", image_size=None, base_filters=4, depth=2, global_context=True)
    free.set_weights(context.get_weights())
    assert tuple(free(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 24, 32, classification.AbQuantizer().num_bins)
    assert tuple(models.as_inference_model(free)(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 48, 64, 2)

    attention = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2,
                                   global_context=True, attention=True)  # fmt: skip
    names = [layer.name for layer in attention.layers]
    assert names.index("global_fusion") < names.index("bottleneck_attention") < names.index("decoder2_up")
    load_initial_weights(attention, str(tmp_path / "context.keras"))
    np.testing.assert_array_equal(np.asarray(attention(x, training=False)), np.asarray(context(x, training=False)))
    attention.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(), run_eagerly=True)
    attention.fit(x, ab, epochs=1, verbose=0)
    assert np.abs(attention.get_layer("bottleneck_attention").projection.numpy()).max() > 0
    save_load_same(attention, x, tmp_path)
    free = models.build_model("unet_classification", image_size=None, base_filters=4, depth=2,
                              global_context=True, attention=True)  # fmt: skip
    free.set_weights(attention.get_weights())
    assert tuple(free(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 24, 32, classification.AbQuantizer().num_bins)


def test_self_attention_mixes_distant_locations_once_its_projection_moves():
    # The identity while its output projection is zero; then one location's output depends on a far one's input.
    from colorize.models.layers import SelfAttention2D

    layer = SelfAttention2D()
    x = np.random.default_rng(0).normal(size=(1, 4, 6, 16)).astype("float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    layer.projection.assign(np.eye(16, dtype="float32"))
    moved = x.copy()
    moved[0, 3, 5] += 5.0
    assert np.abs(np.asarray(layer(moved))[0, 0, 0] - np.asarray(layer(x))[0, 0, 0]).max() > 1e-3
    assert SelfAttention2D.from_config(layer.get_config()).key_channels is None


def _starts_at_the_context_model_learns_and_stays_frozen(semantic, tmp_path):
    """Given the weights of the model without the extractor (--init-weights), ``semantic`` gives
    the same output; a step moves its zero-start branch, not the frozen extractor; it round-trips."""
    from colorize.train.compile import load_initial_weights

    x, ab = random_batch()
    context = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, global_context=True)
    context.save(tmp_path / "context.keras")
    load_initial_weights(semantic, str(tmp_path / "context.keras"))
    np.testing.assert_array_equal(np.asarray(semantic(x, training=False)), np.asarray(context(x, training=False)))
    frozen = [w.numpy().copy() for w in semantic.get_layer("efficientnet_lite0_extractor").weights]
    semantic.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(), run_eagerly=True)
    semantic.fit(x, ab, epochs=1, verbose=0)
    assert np.abs(semantic.get_layer("semantic_dense2").get_weights()[0]).max() > 0
    for before, after in zip(frozen, semantic.get_layer("efficientnet_lite0_extractor").weights):
        np.testing.assert_array_equal(before, after.numpy())  # frozen, batch-norm statistics too
    save_load_same(semantic, x, tmp_path)


def test_unet_classification_with_an_extractor_starts_at_the_model_without_it_and_learns_from_it(tmp_path):
    # Seed 001's fusion on the U-Net: a frozen ImageNet classifier's pooled features, added at the
    # bottleneck from zero.
    semantic = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, global_context=True,
                                  extractor="efficientnet_lite0", extractor_input_size=32)  # fmt: skip
    names = [layer.name for layer in semantic.layers]
    assert names.index("global_fusion") < names.index("semantic_fusion") < names.index("decoder2_up")
    _starts_at_the_context_model_learns_and_stays_frozen(semantic, tmp_path)


def test_unet_classification_with_an_extractor_map_adds_it_location_by_location_from_zero(tmp_path):
    # The classifier's feature map at the bottleneck's stride (the photo at its own size), not its pooled vector.
    mapped = models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, global_context=True,
                                extractor="efficientnet_lite0", extractor_map=True)  # fmt: skip
    assert mapped.get_layer("semantic_dense1").input.shape == (None, 8, 8, 24)  # Lite0 at 1/4: 24 channels
    _starts_at_the_context_model_learns_and_stays_frozen(mapped, tmp_path)
    free = models.build_model("unet_classification", image_size=None, base_filters=4, depth=2, global_context=True,
                              extractor="efficientnet_lite0", extractor_map=True)  # fmt: skip
    free.set_weights(mapped.get_weights())
    assert tuple(free(np.zeros((1, 48, 64, 1), "float32")).shape) == (1, 24, 32, classification.AbQuantizer().num_bins)
    with pytest.raises(ValueError, match="only wired for efficientnet_lite0"):
        models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, extractor="vgg19",
                           extractor_map=True)  # fmt: skip
    with pytest.raises(ValueError, match="extractor_map=True needs an extractor"):
        models.build_model("unet_classification", image_size=32, base_filters=4, depth=2, extractor_map=True)
