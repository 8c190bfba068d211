"""The Keras callbacks that keep a run directory: export, NaN stop, backups, sample images (for :mod:`colorize.train.run`)."""

from __future__ import annotations

import logging
import math
import os
import shutil
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from colorize import layout, visualize
from colorize.color import gamut
from colorize.io.files import atomic_output
from colorize.saving.save import NonFiniteWeightsError, save_model  # noqa: F401 - NonFiniteWeightsError: re-raised by the callbacks' users

log = logging.getLogger(__name__)


class NanStop(keras.callbacks.Callback):
    """Stop as soon as a loss is NaN or infinite, remembering the epoch and batch.

    Unlike ``keras.callbacks.TerminateOnNaN`` it keeps a message naming both, which
    the CLI prints as its one-line error.
    """

    def __init__(self):
        super().__init__()
        self.message = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            if "loss" in key and value is not None and not math.isfinite(float(value)):
                self.message = (
                    f"{key} became {float(value)} at epoch {self.epoch + 1}, batch {batch + 1}; training "
                    "stopped (try a lower --learning-rate, or check the data)"
                )
                self.model.stop_training = True
                return


class EpochTracker(keras.callbacks.Callback):
    """Remember the epoch and batch in progress (for the Ctrl-C message)."""

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.batch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, 0

    def on_train_batch_begin(self, batch, logs=None):
        self.batch = batch


class ModelExport(keras.callbacks.Callback):
    """Save ``best.keras`` (lowest validation loss) and ``last.keras`` after every epoch.

    Unlike ``keras.callbacks.ModelCheckpoint`` it

    * starts from the best validation loss already in the run's history, so a resumed
      run does not overwrite a better ``best.keras`` with its first epoch;
    * saves what ``export`` returns: the model itself, or (for a model trained on
      cached embeddings) the inference model with the extractor wired back in.

    Args:
        folder: the run directory.
        export: ``() -> keras.Model`` giving the model to save, with current weights.
        monitor: the log entry to minimize ("val_loss"; "loss" when there is no validation).
        best_so_far: the best monitored value of earlier epochs (resume).
    """

    def __init__(self, folder, export: Callable[[], keras.Model], monitor="val_loss", best_so_far=math.inf):
        super().__init__()
        self.folder = Path(folder)
        self.export = export
        self.monitor = monitor
        self.best = best_so_far

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None and self.monitor == "val_loss":
            value = (logs or {}).get("loss")
        try:
            last = save_model(self.export(), self.folder / layout.LAST_NAME)
        except NonFiniteWeightsError as error:
            log.warning("%s", error)
            return
        if value is not None and math.isfinite(float(value)) and float(value) < self.best:
            self.best = float(value)
            _atomic_copy(last, self.folder / layout.BEST_NAME)


def _atomic_copy(source: Path, path: Path) -> None:
    """``path`` becomes a copy of ``source`` (a hard link where the file system allows)."""
    with atomic_output(path) as partial:
        partial.unlink()
        try:
            os.link(source, partial)
        except OSError:
            shutil.copyfile(source, partial)


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that never keeps non-finite weights.

    An epoch ending with NaN or infinite weights (a diverged run) leaves the previous
    backup as it was, and a backup that holds such weights (written by an older version)
    is refused on ``--resume`` instead of being trained on.
    """

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        from colorize.models import nonfinite_weights

        if os.path.exists(self._weights_path) and nonfinite_weights(self.model):
            raise NonFiniteWeightsError(
                f"the backup {self._weights_path} holds NaN or infinite weights (a diverged run); "
                f"delete {self.backup_dir} to start again from epoch 1, with a lower --learning-rate"
            )

    def _save_model(self):
        from colorize.models import nonfinite_weights

        if nonfinite_weights(self.model):
            log.warning("weights are NaN or infinite: the backup of the last good epoch is kept")
            return
        super()._save_model()


class SampleImages(keras.callbacks.Callback):
    """After each epoch, save gray | predicted | truth for a fixed batch of validation images.

    The pictures are made as ``colorize predict`` makes its (:func:`colorize.color.gamut.model_io_to_rgb`).

    Args:
        folder: where ``epoch_NNN.png`` files go.
        predict: ``l_scaled -> ab_scaled`` with the current weights.
        batch: ``(l_scaled, ab_scaled)`` of the portraits to show.
    """

    def __init__(self, folder, predict: Callable, batch):
        super().__init__()
        self.folder = Path(folder)
        self.predict = predict
        self.batch = batch

    def on_epoch_end(self, epoch, logs=None):
        l_scaled, ab_scaled = self.batch[0], self.batch[1]
        l_scaled, ab_scaled = (keras.ops.convert_to_numpy(x).astype(np.float32) for x in (l_scaled, ab_scaled))
        predicted = keras.ops.convert_to_numpy(self.predict(l_scaled)).astype(np.float32)
        gray = gamut.model_io_to_rgb(l_scaled, np.zeros_like(ab_scaled))
        prediction = gamut.model_io_to_rgb(l_scaled, predicted)
        truth = gamut.model_io_to_rgb(l_scaled, ab_scaled)
        loss = (logs or {}).get("val_loss")
        title = f"epoch {epoch + 1}" + (f", val_loss {loss:.4f}" if loss is not None else "")
        visualize.save_image_grid(
            self.folder / f"epoch_{epoch + 1:03d}.png",
            [("gray", list(gray)), ("predicted", list(prediction)), ("truth", list(truth))],
            title=title,
        )
