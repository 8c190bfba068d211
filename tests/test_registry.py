"""The model registry: one list read by the CLI, training and models; every file loads after `import colorize.models`."""

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from backend_check import TINY as ALL_TINY

from colorize import registry
from colorize.cli.train import train

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = ("build_encoder", "build_decoder", "build_fusion_colorizer", "build_unet", "build_unet_classification",
            "build_uvgg", "build_classification_colorizer", "build_regression_colorizer", "build_vgg16_autoencoder",
            "build_naive_cnn", "build_resnet50_colorizer", "build_discriminator", "build_gan")  # fmt: skip


def _choices(name):
    option = next(param for param in train.params if param.name == name)
    assert isinstance(option.type, click.Choice)
    return tuple(option.type.choices)


def test_cli_choices_are_the_registry():
    assert _choices("model") == tuple(registry.MODELS)
    assert _choices("loss") == registry.LOSSES
    assert _choices("extractor") == registry.EXTRACTORS


def test_training_and_models_read_the_registry():
    from colorize import models
    from colorize.train.config import TrainConfig

    assert models.MODELS is registry.MODELS
    for name, spec in registry.MODELS.items():
        assert TrainConfig(data="x", model=name).effective_loss == spec.default_loss
    assert TrainConfig(data="x", model="unet").effective_loss == "l1"
    assert TrainConfig(data="x", model="fusion").effective_loss == "mse"
    assert TrainConfig(data="x", model="unet", loss="mse").effective_loss == "mse"
    with pytest.raises(ValueError, match="Unknown loss"):
        TrainConfig(data="x", loss="huber")


@pytest.mark.parametrize("name", sorted(registry.MODELS))
def test_registry_facts_match_the_builder(name):
    spec = registry.MODELS[name]
    parameters = inspect.signature(spec.resolve_builder()).parameters
    assert spec.default_loss in registry.LOSSES + ("gan",)
    extractor = parameters.get("extractor")
    assert spec.extractor == (extractor.default if extractor is not None else None)
    assert spec.loads_extractor_weights == ("extractor_weights" in parameters)
    assert spec.takes_embeddings == ("embedding_input" in parameters)
    assert spec.adversarial == ("generator" in parameters)
    if spec.inference is not None:
        assert callable(registry.resolve(spec.inference))


def test_extractor_choices_exist():
    from colorize.models import extractors

    assert set(registry.EXTRACTORS) <= set(extractors.EXTRACTORS)
    for spec in registry.MODELS.values():
        if spec.fixed_extractor == "vgg16":
            continue  # the VGG16 auto-encoder's VGG16, kept apart from the global extractors (extractors.VGG16)
        assert spec.fixed_extractor is None or spec.fixed_extractor in extractors.EXTRACTORS


def test_unknown_model_lists_the_choices():
    with pytest.raises(ValueError, match=r"Received: model='nope'") as error:
        registry.get("nope")
    assert "unet" in str(error.value)


def test_every_builder_is_reachable_from_models():
    from colorize import models

    for name in BUILDERS:
        assert callable(getattr(models, name)), name
    assert models.build_unet is registry.resolve(registry.MODELS["unet"].builder)


# Tiny options per family (tests/backend_check.py's); the heavy ones (full ImageNet backbones) run under --run-slow.
HEAVY = {name: options for name, options in ALL_TINY.items() if name in ("uvgg", "vgg16_autoencoder", "resnet50")}
TINY = {name: options for name, options in ALL_TINY.items() if name not in HEAVY}
assert set(TINY) | set(HEAVY) == set(registry.MODELS)


def _save_all(options, tmp_path):
    """Each family built, compiled with its training loss and metrics, saved; its outputs on a probe."""
    import keras

    from colorize import losses, metrics, models

    probe = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    expected = {}
    for name, tiny in options.items():
        keras.utils.set_random_seed(0)
        model = models.build_model(name, image_size=32, **tiny)
        if name == "gan":
            model.compile()
            model(probe)
        elif registry.MODELS[name].default_loss == "rebalanced_crossentropy":
            model.compile(optimizer="adam", loss=losses.RebalancedCrossEntropy(l1_weight=10.0))
        else:
            model.compile(optimizer="adam", loss=losses.L1(), metrics=[metrics.AbMAE(), metrics.ThresholdAccuracy()])
        path = tmp_path / f"{name}.keras"
        model.save(path)
        expected[str(path)] = keras.ops.convert_to_numpy(models.as_inference_model(model)(probe, training=False))
    return probe, expected


def _load_in_fresh_process(probe, expected, tmp_path):
    # A user's script: `import colorize.models, keras` (which registers every custom object),
    # then Keras' own loader.
    np.save(tmp_path / "probe.npy", probe)
    code = (
        "import json, sys; import numpy as np; import colorize.models, keras\n"
        "loaded = {path: keras.saving.load_model(path) for path in sys.argv[2:]}\n"
        "from colorize import models\n"
        "probe = np.load(sys.argv[1]); out = {}\n"
        "for path, model in loaded.items():\n"
        "    out[path] = [type(model.loss).__name__ if model.loss is not None else None,\n"
        "                 np.asarray(models.as_inference_model(model)(probe, training=False)).tolist()]\n"
        "print(json.dumps(out))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.run([sys.executable, "-c", code, str(tmp_path / "probe.npy"), *expected], capture_output=True,
                             text=True, env=environment, cwd=ROOT, timeout=600)  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    loaded = json.loads(process.stdout.strip().splitlines()[-1])
    assert sorted(loaded) == sorted(expected)
    for path, (loss_name, output) in loaded.items():
        if not path.endswith("gan.keras"):
            assert loss_name in ("L1", "RebalancedCrossEntropy"), (path, loss_name)
        np.testing.assert_allclose(np.asarray(output), expected[path], atol=1e-5, err_msg=path)


@pytest.mark.slow  # 12 s: every light family built, saved and loaded
def test_every_light_family_loads_after_importing_colorize_models(tmp_path):
    _load_in_fresh_process(*_save_all(TINY, tmp_path), tmp_path)


@pytest.mark.slow
def test_every_heavy_family_loads_after_importing_colorize_models(tmp_path):
    _load_in_fresh_process(*_save_all(HEAVY, tmp_path), tmp_path)


def test_descriptions_name_the_paper_not_a_seed_number():
    """Models are named by what they are or by their paper ("seed 002" is a document, not a name)."""
    from colorize import registry

    for spec in registry.MODELS.values():
        assert "seed" not in spec.description.lower(), spec


# ------------------------------------------------------------------ the family a model carries


@pytest.mark.parametrize("name", sorted(TINY))
def test_family_of_reads_each_family_from_its_model_saved_loaded_and_in_inference_form(name, tmp_path):
    _family_read_back(name, TINY[name], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HEAVY))
def test_family_of_reads_each_heavy_family_back(name, tmp_path):
    _family_read_back(name, HEAVY[name], tmp_path)


def _family_read_back(name, tiny, tmp_path):
    import keras

    from colorize import models, saving

    model = models.build_model(name, image_size=32, **tiny)
    assert registry.family_of(model) == name
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = saving.load_saved_model(path)
    assert registry.family_of(loaded) == name
    inference = models.as_inference_model(loaded)
    assert inference.output_shape[-1] == 2 and len(inference.inputs) == 1
    if name != "gan":  # a GAN's inference form is its generator, of its own family
        assert registry.family_of(inference) == name
        assert registry.family_of(saving.float32_copy(inference)) == name
    if registry.MODELS[name].bins:
        assert inference.name == name + registry.DECODED_SUFFIX
        assert inference.get_layer("annealed_mean") is not None
    keras.backend.clear_session()


def test_family_of_an_embedding_input_fusion_model_gives_its_extractor():
    from colorize import models

    # The extractor is in nothing but the name here; as_inference_model wires it back in from there
    # (tests/test_models_colorizer.py checks the colours it gives).
    trained = models.build_model("fusion", image_size=32, extractor="vggface", width=0.125, embedding_input=True)
    assert [tensor.name for tensor in trained.inputs] == ["l_input", "embedding"]
    assert (registry.family_of(trained), registry.extractor_of(trained)) == ("fusion", "vggface")


def test_family_of_older_files_and_of_models_no_builder_named():
    from colorize import saving

    assert registry.family_of(saving.load_saved_model("default")) == "unet_classification"  # saved before the rule
    assert registry.family_of("unet_classification_annealed_mean_annealed_mean") == "unet_classification"
    assert registry.family_of("resnet50_colorizer") == registry.family_of("resnet50") == "resnet50"
    assert registry.extractor_of("fusion_inception_resnet_v2") == "inception_resnet_v2"
    for other in ("functional", "fusion_x", "unet2", ""):
        assert registry.family_of(other) is None, other


def test_a_model_of_no_family_is_used_as_it_is_when_it_maps_l_to_ab(model_path):
    from colorize import models, saving

    plain = saving.load_saved_model(model_path)  # conftest's unnamed two-layer network
    assert registry.family_of(plain) is None
    assert models.as_inference_model(plain) is plain


# ------------------------------------------------------------------ the loss table


def test_the_cli_loss_choices_are_the_loss_table():
    assert _choices("loss") == tuple(registry.LOSS_SPECS) == registry.LOSSES
    with pytest.raises(ValueError, match=r"Received: loss='huber'"):
        registry.get_loss("huber")


@pytest.mark.parametrize("name", registry.LOSSES)
def test_compile_makes_each_loss_from_the_table(name, monkeypatch):
    from colorize import losses, metrics
    from colorize.train import compile as compiling
    from colorize.train.config import TrainConfig

    spec = registry.get_loss(name)
    counted = []

    def distribution(config, sources):
        counted.append(name)
        return np.ones((22, 22)), metrics.AB_EDGES

    monkeypatch.setattr(compiling, "ab_distribution", distribution)
    loss = compiling.make_loss(spec, TrainConfig(data="x", loss=name, rebalance=0.7), sources=None)
    assert isinstance(loss, registry.resolve(spec.factory))
    assert bool(counted) == spec.uses_distribution
    assert spec.bins == isinstance(loss, losses.RebalancedCrossEntropy)
    if spec.bins:
        assert loss.l1_weight == (compiling.BINS_L1_WEIGHT if spec.power == 1 else 0.0)
    elif isinstance(loss, losses.ColourWeightedLoss):
        assert (loss.power, loss.lambda_) == (spec.power, 0.7)
    compiled = [type(registry.resolve(metric)()) for metric in spec.metrics]
    assert compiled == ([] if spec.bins else [metrics.AbMAE, metrics.ThresholdAccuracy])


def test_the_loss_table_matches_the_model_families():
    for spec in registry.MODELS.values():
        if not spec.adversarial:
            assert registry.get_loss(spec.default_loss).bins == spec.bins, spec.name
