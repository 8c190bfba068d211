"""The public training names under their earlier home; the code lives in :mod:`colorize.train`.

Example:
    >>> from colorize.training import train  # same as colorize.train.train
"""

from colorize.train import (  # noqa: F401 - re-exported
    BATCH_BYTES_PER_PIXEL,
    BINS_L1_WEIGHT,
    TrainConfig,
    TrainingInterrupted,
    TrainingStopped,
    TrainResult,
    __all__,
    rebalancing_prior,
    train,
)
