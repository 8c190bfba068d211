"""Export's rebalancing prior: decode a trained bins model as if trained with another class rebalancing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from colorize import layout, registry
from colorize.errors import ColorizeError
from colorize.train import rundir
from colorize.train.config import TrainConfig
from colorize.train.datasets import ab_distribution, data_sources


def rebalancing_prior(run_dir: str | os.PathLike, decode: float) -> np.ndarray:
    """The log prior shift (Q,) that decodes the bins model of training run ``run_dir`` as if
    it had been trained with class rebalancing ``decode`` (for ``colorize export --rebalance``).

    The run's config gives its data (whose a*b* distribution is read as in training) and the
    rebalancing it was trained with; see ``classification.rebalancing_prior``.

    Raises:
        ColorizeError: ``run_dir`` is not a run directory of a rebalanced-cross-entropy model,
            or ``decode`` is outside (0, 1].
    """
    from colorize.models import classification
    from colorize.train.config import read_config_file

    if not (isinstance(decode, (int, float)) and 0 < decode <= 1):
        raise ColorizeError(f"rebalance must be a number in (0, 1] (1: no rebalancing). Received: {decode!r}")
    if not rundir.is_run_dir(run_dir):
        raise ColorizeError(f"{run_dir} is not a training run directory (one holds {layout.CONFIG_NAME} and "
                            f"{layout.HISTORY_NAME}): --rebalance needs the run, whose data give the colour "
                            "distribution")  # fmt: skip
    config = TrainConfig.from_dict(read_config_file(Path(run_dir) / layout.CONFIG_NAME))
    loss = registry.LOSS_SPECS.get(config.effective_loss)
    if loss is None or not loss.bins:
        raise ColorizeError(f"{run_dir} trained {config.model} with loss {config.effective_loss!r}; "
                            "--rebalance applies to the bins models trained with rebalanced_crossentropy")  # fmt: skip
    histogram, edges = ab_distribution(config, data_sources(config))
    return classification.rebalancing_prior(histogram, edges, decode, trained=config.rebalance)
