"""Resume checks: a resumed run's model, rebuilt from its config.json, must be the one its last.keras holds."""

from __future__ import annotations

from pathlib import Path

from colorize import layout
from colorize.errors import ColorizeError
from colorize.train.compile import Setup, build_and_compile
from colorize.train.config import TrainConfig


def _resumed_setup(config: TrainConfig, sources, embedding_input: bool, strategy, run_dir: Path) -> "Setup":
    """The model of a resumed run, built from its config.json and checked against its last.keras.

    Raises:
        ColorizeError: config.json names a model other than the one the run's weights are of.
    """
    from colorize import saving

    saved = run_dir / layout.LAST_NAME
    saved_config = saving.saved_model_config(saved) if saved.is_file() else None
    if saved_config is None:
        return build_and_compile(config, sources, embedding_input=embedding_input, strategy=strategy)
    mismatch = (f"{run_dir}/config.json says model {config.model!r} with options {config.model_options or {}} "
                f"but the run's weights (last.keras) are of another model ({saved_config.get('name')!r})")  # fmt: skip
    advice = "nothing was changed: fix config.json or start a new run"
    try:
        setup = build_and_compile(config, sources, embedding_input=embedding_input, strategy=strategy)
    except ValueError as error:
        raise ColorizeError(f"{mismatch}; {advice} ({' '.join(str(error).split())})") from None
    if _layer_shapes(setup.export().get_config()) != _layer_shapes(saved_config):
        raise ColorizeError(f"{mismatch}; {advice}")
    return setup


def _layer_shapes(model_config: dict) -> list[tuple]:
    """What decides a functional model's weights, from its config: the model's name and each layer's
    class, name and sizes (not its dtype: a mixed-precision run saves the same weights)."""
    import json

    sizes = ("filters", "units", "kernel_size", "num_bins", "output_dim")
    layers = [(layer.get("class_name"), layer.get("config", {}).get("name"),
               *(json.dumps(layer.get("config", {}).get(key), default=str) for key in sizes))
              for layer in model_config.get("layers", []) if isinstance(layer, dict)]  # fmt: skip
    return [model_config.get("name"), *layers]
