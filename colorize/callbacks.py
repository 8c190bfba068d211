"""Keras callbacks used by :mod:`colorize.training`."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from colorize import color, visualize


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


class SampleImages(keras.callbacks.Callback):
    """After each epoch, save gray | predicted | truth for a fixed batch of validation images."""

    def __init__(self, folder, inference_model, batch):
        super().__init__()
        self.folder = Path(folder)
        self.inference_model = inference_model
        self.batch = batch

    def on_epoch_end(self, epoch, logs=None):
        l_scaled, ab_scaled = self.batch[0], self.batch[1]
        predicted = self.inference_model(l_scaled, training=False)
        gray = color.model_io_to_rgb(l_scaled, np.zeros_like(np.asarray(ab_scaled))).numpy()
        prediction = color.model_io_to_rgb(l_scaled, predicted).numpy()
        truth = color.model_io_to_rgb(l_scaled, ab_scaled).numpy()
        loss = (logs or {}).get("val_loss")
        title = f"epoch {epoch + 1}" + (f", val_loss {loss:.4f}" if loss is not None else "")
        visualize.save_image_grid(
            self.folder / f"epoch_{epoch + 1:03d}.png",
            [("gray", list(gray)), ("predicted", list(prediction)), ("truth", list(truth))],
            title=title,
        )
