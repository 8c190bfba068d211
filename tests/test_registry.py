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
