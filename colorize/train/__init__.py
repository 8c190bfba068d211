"""Training: :func:`train`, the code behind `colorize train`, one module per job.

Imports point one way (each only on those below it):

    run.py         train(): orchestration, fit, the run directory's callbacks; TrainResult, TrainingStopped
    resume.py      a resumed run's model checked against the weights it holds
    compile.py     build and compile the model: the loss factory, metrics, initial weights
    prior.py       export's rebalancing prior (``colorize export --rebalance``)
    datasets.py    each source's splits, batch streams for two backends, the a*b* distribution
    options.py     checks before the run directory is made: builder options, batch memory, weights
    rundir.py      the run directory: checks, history, best epoch, removal of a failed start
    callbacks.py   the Keras callbacks that keep a run directory (export, NaN stop, backups, samples)
    config.py      TrainConfig and the YAML/JSON config file
    distribute.py  tf.distribute strategies, the device, jit

Example:
    >>> from colorize.train.config import TrainConfig
    >>> from colorize.train import train
    >>> result = train(TrainConfig(data="data/utk128", model="unet", epochs=2,
    ...                            output_dir="runs/unet"))  # doctest: +SKIP
"""

from colorize.train.compile import BINS_L1_WEIGHT
from colorize.train.config import TrainConfig
from colorize.train.options import BATCH_BYTES_PER_PIXEL
from colorize.train.prior import rebalancing_prior
from colorize.train.run import TrainingInterrupted, TrainingStopped, TrainResult, train

__all__ = [
    "BATCH_BYTES_PER_PIXEL",
    "BINS_L1_WEIGHT",
    "TrainConfig",
    "TrainResult",
    "TrainingInterrupted",
    "TrainingStopped",
    "rebalancing_prior",
    "train",
]
