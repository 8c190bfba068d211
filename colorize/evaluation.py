"""Evaluation: every seed's measure for several models and the baselines, side by side.

Images are streamed in batches (bounded memory): each colour photo is turned gray,
colorized by every model, and compared with itself. The ``gray`` baseline predicts
ab = 0; the ``random`` baseline takes the ab of another image of the set (seed 002),
and both go through the same code as a model.

Example:
    >>> from colorize import evaluation, inference
    >>> models = {"unet": inference.load_model("runs/unet"), "gray": "gray"}  # doctest: +SKIP
    >>> result = evaluation.evaluate(models, "data/hf128")  # doctest: +SKIP
    >>> evaluation.write_report(result, "report/")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from colorize import metrics

log = logging.getLogger(__name__)

BASELINES = ("gray", "random")
# Columns of the summary table: (key, heading, format).
COLUMNS = (
    ("auc", "AuC %", "{:.2f}"),
    ("threshold_accuracy", "acc@10 %", "{:.2f}"),
    ("rgb_mse", "MSE (RGB)", "{:.2f}"),
    ("rgb_mae", "MAE (RGB)", "{:.2f}"),
    ("ab_mse", "MSE (ab)", "{:.2f}"),
    ("ab_mae", "MAE (ab)", "{:.2f}"),
    ("psnr", "PSNR dB", "{:.2f}"),
    ("ssim", "SSIM", "{:.4f}"),
    ("colourfulness", "colourfulness", "{:.2f}"),
    ("delta_m", "ΔM", "{:+.2f}"),
)


@dataclasses.dataclass
class EvaluationResult:
    """Per-model mean metrics, per-image rows, ab histograms and sample images."""

    summary: dict[str, dict[str, float]]
    rows: list[dict]
    histograms: dict[str, np.ndarray]
    samples: dict[str, list[np.ndarray]]
    num_images: int
    data: str
    image_size: int


def _predictor(model, image_size: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function (l_scaled batch, true ab_scaled batch) -> predicted ab_scaled batch."""
    if isinstance(model, str):
        if model == "gray":
            return lambda l_scaled, ab_scaled, previous: np.zeros_like(ab_scaled)
        if model == "random":
            return _random_baseline
        raise ValueError(f"Unknown baseline. Expected one of {BASELINES}. Received: {model!r}")
    from colorize.inference import _Runner

    runner = model if isinstance(model, _Runner) else _Runner.create(model)

    def predict(l_scaled, ab_scaled, previous):
        size = runner.fixed_size
        if size is not None and size != l_scaled.shape[1]:
            import tensorflow as tf

            resized = tf.image.resize(l_scaled, (size, size), antialias=True).numpy()
            ab = runner.predict(resized)
            return tf.image.resize(ab, l_scaled.shape[1:3]).numpy()
        return runner.predict(l_scaled)

    return predict


def _random_baseline(l_scaled, ab_scaled, previous):
    """Each image gets the ab of another image: the next one in the batch (or the last image seen)."""
    if len(ab_scaled) > 1:
        return np.roll(ab_scaled, -1, axis=0)
    if previous is not None:
        return previous[-1:]
    return np.zeros_like(ab_scaled)


def evaluate(
    models: dict,
    data: str | os.PathLike,
    split: str = "test",
    image_size: int = 128,
    batch_size: int = 16,
    limit: int | None = None,
    num_samples: int = 8,
    progress: Callable[[int], None] | None = None,
) -> EvaluationResult:
    """Evaluate models (and baselines) on colour photos.

    Args:
        models: ``{name: keras.Model | "gray" | "random"}``.
        data: a prepared data set (its ``split`` is used) or a plain folder of colour images.
        split: the prepared split to use ("test" by default).
        image_size: the working size images are compared at.
        batch_size: images per batch.
        limit: stop after this many images.
        num_samples: images kept for the comparison grid.
        progress: optional callable ``progress(n)`` after each batch of n images.

    Returns:
        An :class:`EvaluationResult`.
    """
    from colorize import color
    from colorize.data import pipeline

    if not models:
        raise ValueError("nothing to evaluate: give at least one model or --baselines")
    dataset = pipeline.make_dataset(
        data, split=split, image_size=image_size, batch_size=batch_size, shuffle=False, with_rgb=True
    )
    predictors = {name: _predictor(model, image_size) for name, model in models.items()}
    sums: dict[str, dict[str, float]] = {name: {} for name in list(models) + ["ground truth"]}
    histograms = {name: np.zeros((len(metrics.AB_EDGES) - 1,) * 2) for name in list(models) + ["ground truth"]}
    samples: dict[str, list[np.ndarray]] = {name: [] for name in ["gray input"] + list(models) + ["ground truth"]}
    rows: list[dict] = []
    count = 0
    previous = None
    for l_scaled, ab_scaled, rgb in dataset:
        l_scaled, ab_scaled, rgb = l_scaled.numpy(), ab_scaled.numpy(), rgb.numpy()
        if limit is not None:
            keep = max(0, limit - count)
            l_scaled, ab_scaled, rgb = l_scaled[:keep], ab_scaled[:keep], rgb[:keep]
        if len(l_scaled) == 0:
            break
        truth_ab = color.unscale_ab(ab_scaled)
        truth_colourfulness = [metrics.colourfulness(image) for image in rgb]
        for value in truth_colourfulness:
            _add(sums["ground truth"], {"colourfulness": value})
        histograms["ground truth"] += metrics.ab_histogram(truth_ab)
        if len(samples["ground truth"]) < num_samples:
            room = num_samples - len(samples["ground truth"])
            samples["ground truth"].extend(rgb[:room])
            gray = color.model_io_to_rgb(l_scaled[:room], np.zeros_like(ab_scaled[:room])).numpy()
            samples["gray input"].extend(gray)
        for name, predict in predictors.items():
            predicted_scaled = np.asarray(predict(l_scaled, ab_scaled, previous), np.float32)
            # RGB measures use the 8-bit image a user would get; ab measures use the
            # predicted a*b* directly, as in the seeds.
            predicted_rgb = np.round(color.model_io_to_rgb(l_scaled, predicted_scaled).numpy() * 255.0) / 255.0
            predicted_ab = color.unscale_ab(predicted_scaled)
            histograms[name] += metrics.ab_histogram(predicted_ab)
            if len(samples[name]) < num_samples:
                samples[name].extend(predicted_rgb[: num_samples - len(samples[name])])
            for index in range(len(l_scaled)):
                values = _image_metrics(predicted_rgb[index], rgb[index], predicted_ab[index], truth_ab[index])
                values["delta_m"] = values["colourfulness"] - truth_colourfulness[index]
                _add(sums[name], values)
                rows.append({"image": count + index, "model": name, **values})
        previous = ab_scaled
        count += len(l_scaled)
        if progress:
            progress(len(l_scaled))
        if limit is not None and count >= limit:
            break
    if count == 0:
        raise ValueError(f"{data}: no images to evaluate")
    summary = {name: {key: value / count for key, value in totals.items()} for name, totals in sums.items()}
    for name in summary:
        summary[name].update(metrics.distribution_summary(histograms[name]))
    return EvaluationResult(summary, rows, histograms, samples, count, str(data), image_size)


def _add(totals: dict, values: dict) -> None:
    for key, value in values.items():
        if math.isfinite(value):
            totals[key] = totals.get(key, 0.0) + value
        else:  # PSNR of a perfect prediction: cap at 100 dB so means stay finite
            totals[key] = totals.get(key, 0.0) + (100.0 if value > 0 else 0.0)


def _image_metrics(predicted_rgb, truth_rgb, predicted_ab, truth_ab) -> dict[str, float]:
    return {
        "auc": metrics.auc(predicted_ab, truth_ab),
        "threshold_accuracy": metrics.threshold_accuracy(predicted_ab, truth_ab) * 100.0,
        "rgb_mse": metrics.rgb_mse(predicted_rgb, truth_rgb),
        "rgb_mae": metrics.rgb_mae(predicted_rgb, truth_rgb),
        "ab_mse": metrics.ab_mse(predicted_ab, truth_ab),
        "ab_mae": metrics.ab_mae(predicted_ab, truth_ab),
        "psnr": metrics.psnr(predicted_rgb, truth_rgb),
        "ssim": metrics.ssim(predicted_rgb, truth_rgb),
        "colourfulness": metrics.colourfulness(predicted_rgb),
    }


def format_table(result: EvaluationResult, markdown: bool = True) -> str:
    """The side-by-side table (models as rows, as in seed 001 Tables V-VI and seed 002 Table 1)."""
    headings = ["model"] + [heading for _, heading, _ in COLUMNS] + ["empty buckets %", "largest bucket %"]
    lines = []
    for name, values in result.summary.items():
        cells = [name]
        for key, _, fmt in COLUMNS:
            cells.append(fmt.format(values[key]) if key in values else "—")
        cells.append(f"{values['empty_buckets'] * 100:.1f}")
        cells.append(f"{values['largest_bucket'] * 100:.1f}")
        lines.append(cells)
    if markdown:
        out = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(str(row[i])) for row in [headings] + lines) for i in range(len(headings))]
    out = ["  ".join(h.ljust(w) for h, w in zip(headings, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in lines]
    return "\n".join(out)


def write_report(result: EvaluationResult, output_dir: str | os.PathLike, title: str = "Colorization report") -> dict:
    """Write metrics.json, per_image.csv, report.md, ab_distribution.png and samples.png.

    Returns:
        ``{name: path}`` of the files written (each written atomically).
    """
    from colorize import visualize

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    payload = {"data": result.data, "num_images": result.num_images, "image_size": result.image_size,
               "models": result.summary}  # fmt: skip
    files["metrics"] = visualize.atomic_write_bytes(
        output_dir / "metrics.json", (json.dumps(payload, indent=2) + "\n").encode()
    )
    buffer = io.StringIO()
    fields = ["image", "model"] + [key for key, _, _ in COLUMNS]
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(result.rows)
    files["per_image"] = visualize.atomic_write_bytes(output_dir / "per_image.csv", buffer.getvalue().encode())
    files["distribution"] = plot_ab_distributions(output_dir / "ab_distribution.png", result.histograms)
    columns = [(name, images) for name, images in result.samples.items() if images]
    files["samples"] = visualize.save_image_grid(output_dir / "samples.png", columns)
    report = [
        f"# {title}",
        "",
        f"Data: `{result.data}` — {result.num_images} images compared at {result.image_size} x {result.image_size}.",
        "Each colour image is turned gray, colorized, and compared with itself. `gray` predicts a*b* = 0;",
        "`random` uses the a*b* of another image of the set. AuC: area under the share of pixels",
        "within t (a*b* Euclidean distance), t = 0..150, in percent; acc@10: share within 10.",
        "MSE/MAE (RGB) on 0-255; ΔM: mean colourfulness difference to the ground truth.",
        "",
        format_table(result),
        "",
        "![a*b* distributions](ab_distribution.png)",
        "",
        "![gray | models | truth](samples.png)",
        "",
    ]
    files["report"] = visualize.atomic_write_bytes(output_dir / "report.md", "\n".join(report).encode())
    return files


def plot_ab_distributions(path: str | os.PathLike, histograms: dict[str, np.ndarray]):
    """Log-scaled a*b* histograms, one panel per model and the ground truth (seed 000, fig. 6)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from colorize import visualize

    names = list(histograms)
    figure, axes = plt.subplots(1, len(names), figsize=(3 * len(names), 3.2), squeeze=False)
    edges = metrics.AB_EDGES
    for axis, name in zip(axes[0], names):
        histogram = histograms[name]
        image = metrics.log_histogram(histogram).T
        axis.imshow(image, origin="lower", extent=(edges[0], edges[-1], edges[0], edges[-1]), cmap="viridis")
        summary = metrics.distribution_summary(histogram)
        axis.set_title(
            f"{name}\nempty {summary['empty_buckets'] * 100:.0f}%, max {summary['largest_bucket'] * 100:.0f}%",
            fontsize=8,
        )
        axis.set_xlabel("a*")
        axis.set_ylabel("b*")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return visualize.atomic_write_bytes(path, buffer.getvalue())
