"""File names of a training run directory and of a prepared data set, spelled once.

Every module that writes or reads one of these files takes its name from here
(training, :mod:`colorize.train.rundir`, the callbacks, :mod:`colorize.saving`, the CLI;
``colorize prepare`` and the readers of :mod:`colorize.data`). Importing it imports nothing.

A run directory (``colorize train -o RUN_DIR``)::

    RUN_DIR/
      config.json        CONFIG_NAME: the effective configuration (what --resume replays)
      history.csv        HISTORY_NAME: one row per finished epoch (Keras CSVLogger)
      logs/              LOGS_DIR: TensorBoard event files
      best.keras         BEST_NAME: the model with the lowest validation loss so far
      last.keras         LAST_NAME: the model after the last finished epoch
      interrupted.keras  INTERRUPTED_NAME: the model when Ctrl-C stopped the run
      backup/            BACKUP_DIR: optimizer and epoch state for --resume
      samples/           SAMPLES_DIR: epoch_NNN.png, gray | predicted | truth
      loss.png           LOSS_PLOT_NAME: loss curves, written at the end

A prepared data set (``colorize prepare -o DATA``): ``manifest.json`` (MANIFEST_NAME),
``ab_distribution.npz`` (AB_DISTRIBUTION_NAME), and per split in SPLITS the TFRecord
and ``.npy`` shards named by :func:`colorize.data.records.shard_name` and
:func:`colorize.data.arrays.shard_name`.

Example:
    >>> from colorize import layout
    >>> str(Path("runs/unet") / layout.HISTORY_NAME)  # doctest: +SKIP
    'runs/unet/history.csv'
"""

# A training run directory.
CONFIG_NAME = "config.json"
HISTORY_NAME = "history.csv"
LOGS_DIR = "logs"
BEST_NAME = "best.keras"
LAST_NAME = "last.keras"
INTERRUPTED_NAME = "interrupted.keras"
BACKUP_DIR = "backup"
SAMPLES_DIR = "samples"
LOSS_PLOT_NAME = "loss.png"
SAVED_MODEL_NAMES = (BEST_NAME, LAST_NAME)  # the models a run directory offers, best first

# A prepared data set.
MANIFEST_NAME = "manifest.json"
AB_DISTRIBUTION_NAME = "ab_distribution.npz"
SPLITS = ("train", "val", "test")
