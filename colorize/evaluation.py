"""Evaluation: every paper's measure for several models and the baselines, side by side.

Images are streamed in batches (bounded memory): each colour photo is turned gray,
colorized by every model, and compared with itself. The ``gray`` baseline predicts
ab = 0; the ``random`` baseline takes the ab of another image of the set (as in the classification report after Zhang et al. 2016),
and both go through the same code as a model.

Example:
    >>> from colorize import evaluation, saving
    >>> models = {"unet": saving.load_model("runs/unet"), "gray": "gray"}  # doctest: +SKIP
    >>> result = evaluation.evaluate(models, "data/hf128")  # doctest: +SKIP
    >>> evaluation.write_report(result, "report/")  # doctest: +SKIP
"""

from __future__ import annotations

import collections
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

from colorize import errors, measures
from colorize.color import np_ops
from colorize.io.decode import resize

log = logging.getLogger(__name__)

BASELINES = ("gray", "random")
# Columns of the summary table: (key, heading, format).
COLUMNS = (
    ("auc", "AuC %", "{:.2f}"),
    ("rebalanced_auc", "AuC rebal %", "{:.2f}"),
    ("threshold_accuracy", "acc@10 %", "{:.2f}"),
    ("rgb_mse", "MSE (RGB)", "{:.2f}"),
    ("rgb_mae", "MAE (RGB)", "{:.2f}"),
    ("ab_mse", "MSE (ab)", "{:.2f}"),
    ("ab_mae", "MAE (ab)", "{:.2f}"),
    ("psnr", "PSNR dB", "{:.2f}"),
    ("ssim", "SSIM", "{:.4f}"),
    ("colourfulness", "colourfulness", "{:.2f}"),
    ("delta_m", "ΔM", "{:+.2f}"),
    ("hue_entropy", "hue_H", "{:.2f}"),
    ("warm_share", "warm", "{:.2f}"),
    ("blotchiness", "blotch %", "{:.2f}"),
    ("ab_intersection", "ab_inter", "{:.3f}"),
)
# Measures of the colours alone (no truth needed): the truth gets them too, and a folder of
# black-and-white photos (evaluate_without_truth) gets only these. See COLOUR_MEASURES_TEXT.
COLOUR_KEYS = ("colourfulness", "hue_entropy", "warm_share", "blotchiness")


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
    full_resolution: bool = False
    truth: bool = True  # False: black-and-white photos, only the colour measures
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (file, reason)
    render_size: int | None = None  # full resolution: the long side the models saw (None: predict's default)


DEFAULT_IMAGE_SIZE = 128


def working_size(models: dict, data: str | os.PathLike | None = None) -> int:
    """The size images are compared at: the first model's input size, else the prepared
    data set's image size, else 128.

    Example:
        >>> working_size({"gray": "gray"})
        128
    """
    for model in models.values():
        if getattr(model, "trained_size", None):  # a colorize.infer.runtime.Runner
            return int(model.trained_size)
        shape = getattr(model, "inputs", None) and model.inputs[0].shape
        if shape and shape[1] is not None and shape[1] == shape[2]:
            return int(shape[1])
    if data is not None:
        from colorize.data import pipeline

        if pipeline.is_prepared_dir(data):
            size = pipeline.read_manifest(data).get("image_size")
            if isinstance(size, int) and size > 0:
                return size
    return DEFAULT_IMAGE_SIZE


@dataclasses.dataclass
class _Batch:
    """Images of one step: stacked arrays at the working size, or lists at full resolution."""

    l_scaled: list | np.ndarray  # (H, W, 1) each
    ab_scaled: list | np.ndarray  # (H, W, 2) each
    rgb: list | np.ndarray  # (H, W, 3) each, [0, 1]
    previous_ab: np.ndarray | None  # the last image's ab_scaled of the previous batch
    files: list[str] | None = None  # image paths, at full resolution

    def __len__(self) -> int:
        return len(self.l_scaled)


def _predictor(model, render_size: int | None) -> Callable[[_Batch], list]:
    """A function batch -> the scored ``(rgb, ab)`` of each image: the 8-bit RGB in [0, 1] a
    user gets (the shape of its truth) and its predicted a*b*.

    At working size the a*b* are the model's own (as in the papers). At full resolution a
    model colorizes each file with :func:`colorize.inference.colorize_image`, the very
    function ``colorize predict`` uses, and the a*b* are those of its output.
    """
    if isinstance(model, str):
        if model == "gray":
            return lambda batch: _scored(batch.l_scaled, [np.zeros_like(ab) for ab in batch.ab_scaled])
        if model == "random":
            return lambda batch: _scored(batch.l_scaled, _random_baseline(batch))
        raise ValueError(f"Unknown baseline. Expected one of {BASELINES}. Received: {model!r}")
    from colorize import inference
    from colorize.infer.runtime import Runner

    runner = Runner.create(model)

    def predict(batch):
        if batch.files:  # full resolution: what `colorize predict` writes
            outputs = [inference.colorize_image(file, model=runner, render_size=render_size) for file in batch.files]
            return [(rgb, _output_ab(rgb)) for rgb in map(_float_rgb, outputs)]
        size = runner.fixed_size
        if size is None or size == batch.l_scaled.shape[1]:
            return _scored(batch.l_scaled, runner.predict(batch.l_scaled))
        resized = np.stack([resize(image, size, size) for image in batch.l_scaled])
        return _scored(batch.l_scaled, [resize(ab, *batch.l_scaled.shape[1:3]) for ab in runner.predict(resized)])

    return predict


def _scored(l_scaled: list | np.ndarray, predicted: list | np.ndarray) -> list:
    """``(rgb, ab)`` of each image from scaled L and predicted scaled ab: RGB rounded to the
    8 bits a user would get (one conversion for a stacked batch), ab unscaled."""
    from colorize import color

    if isinstance(l_scaled, np.ndarray):
        predicted = np.stack(predicted).astype(np.float32)
        rgb = _to_rgb(l_scaled, predicted)
    else:
        predicted = [np.asarray(ab, np.float32) for ab in predicted]
        rgb = [_to_rgb(l_image, ab) for l_image, ab in zip(l_scaled, predicted)]
    return [(np.round(image * 255.0) / 255.0, color.unscale_ab(ab)) for image, ab in zip(rgb, predicted)]


def _random_baseline(batch: _Batch) -> list:
    """Each image gets the ab of another image of the set, chosen deterministically and
    independently of the batch size: image k takes image k-1's ab, the first image takes
    the second's (alone in a batch of one, with nothing before it, it gets ab = 0)."""
    count = len(batch)
    if batch.previous_ab is not None:
        sources = [batch.previous_ab] + [batch.ab_scaled[index - 1] for index in range(1, count)]
    elif count > 1:
        sources = [batch.ab_scaled[1]] + [batch.ab_scaled[index - 1] for index in range(1, count)]
    else:
        sources = [np.zeros_like(batch.ab_scaled[0])]
    return [resize(source, *target.shape[:2]) for source, target in zip(sources, batch.ab_scaled)]


def _working_size_batches(data, split: str, image_size: int, batch_size: int):
    from colorize.data import pipeline

    dataset = pipeline.make_dataset(
        data, split=split, image_size=image_size, batch_size=batch_size, shuffle=False, with_rgb=True
    )
    for l_scaled, ab_scaled, rgb in dataset:
        yield l_scaled.numpy(), ab_scaled.numpy(), rgb.numpy(), None


def _photo_files(data) -> list[Path]:
    """The photos of a plain folder (or file) evaluated at full resolution."""
    from colorize.data import pipeline
    from colorize.io.files import find_images

    if pipeline.is_prepared_dir(data):
        raise ValueError(
            f"{data} is a prepared data set (its images are stored at the training size); "
            "--full-resolution needs a folder of original photos"
        )
    files, skipped = find_images([data])
    for path, reason in skipped:
        log.warning("skipping %s: %s", path, reason)
    return files


def _full_resolution_batches(files: list[Path], batch_size: int):
    """Lists of full-resolution (l_scaled, ab_scaled, rgb, file), one photo at a time from disk."""
    from colorize.errors import ColorizeError
    from colorize.io.decode import read_image

    batch: tuple[list, list, list, list] = ([], [], [], [])
    for path in files:
        try:
            rgb = read_image(path).rgb
        except (ColorizeError, OSError, ValueError) as error:  # an undecodable file is skipped
            log.warning("skipping %s: %s", path, error)
            continue
        l_scaled, ab_scaled = (np.asarray(value) for value in np_ops.rgb_to_model_io(rgb))
        for items, value in zip(batch, (l_scaled, ab_scaled, rgb, str(path))):
            items.append(value)
        if len(batch[0]) == batch_size:
            yield batch
            batch = ([], [], [], [])
    if batch[0]:
        yield batch


def evaluate(
    models: dict,
    data: str | os.PathLike,
    split: str = "test",
    image_size: int | None = None,
    batch_size: int = 16,
    limit: int | None = None,
    num_samples: int = 8,
    full_resolution: bool = False,
    progress: Callable[[int], None] | None = None,
    save_predictions: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> EvaluationResult:
    """Evaluate models (and baselines) on colour photos.

    Args:
        models: ``{name: keras.Model | Runner | "gray" | "random"}``; a model maps scaled
            L to scaled ab (see ``colorize.saving.load_model``; a
            ``colorize.infer.runtime.Runner`` from ``load_runner`` keeps its precision).
        data: a prepared data set (its ``split`` is used) or a plain folder of colour images.
        split: the prepared split to use ("test" by default).
        image_size: the working size images are compared at; None: the first model's
            input size, else the prepared set's size, else 128. With ``full_resolution``,
            the long side the models see (None: ``colorize predict``'s default).
        batch_size: images per batch.
        limit: stop after this many images.
        num_samples: images kept for the comparison grid.
        full_resolution: compare at each photo's own size (plain folders only): a model
            colorizes each file with :func:`colorize.inference.colorize_image`, as
            ``colorize predict`` does (the a*b* measures are those of its output).
        progress: optional callable ``progress(n)`` after each batch of n images.
        save_predictions: a folder to write each scored image to as a PNG (a sub-folder
            per model when there are several): at full resolution named as ``colorize
            predict`` names its outputs (``photo_colorized.png``, sub-folders kept), else
            ``NNNNN_colorized.png`` by position (the ``image`` column of the report).
        overwrite: replace predictions already in ``save_predictions``.

    Returns:
        An :class:`EvaluationResult`.

    Example:
        >>> result = evaluate({"gray": "gray", "random": "random"}, "photos/", limit=100)  # doctest: +SKIP
        >>> result.summary["gray"]["auc"]  # doctest: +SKIP
    """
    from colorize import color
    from colorize.data import records

    if not models:
        raise ValueError("nothing to evaluate: give at least one model or --baselines")
    records.check_complete(data)
    if save_predictions is not None:
        check_predictions_folder(save_predictions, overwrite)
    render_size = image_size if full_resolution else None
    if image_size is None:
        image_size = working_size(models, data)
    photos = _photo_files(data) if full_resolution else None
    if full_resolution:
        batches = _full_resolution_batches(photos, batch_size)
    else:
        batches = _working_size_batches(data, split, image_size, batch_size)
    predictors = {name: _predictor(model, render_size) for name, model in models.items()}
    weights = _class_weights(data)
    saver = None if save_predictions is None else _PredictionWriter(save_predictions, list(models), data, photos)
    names = list(models) + ["ground truth"]
    sums: dict[str, dict[str, float]] = {name: {} for name in names}
    histograms = {name: np.zeros((len(measures.AB_EDGES) - 1,) * 2) for name in names}
    tallies = {name: measures.HueTally() for name in names}
    samples: dict[str, list[np.ndarray]] = {name: [] for name in ["gray input"] + names}
    rows: list[dict] = []
    count = 0
    previous_ab = None
    for l_scaled, ab_scaled, rgb, files in batches:
        if limit is not None:
            keep = max(0, limit - count)
            l_scaled, ab_scaled, rgb = l_scaled[:keep], ab_scaled[:keep], rgb[:keep]
            files = files[:keep] if files else files
        if len(l_scaled) == 0:
            break
        batch = _Batch(l_scaled, ab_scaled, rgb, previous_ab, files)
        truth_ab = [color.unscale_ab(ab) for ab in ab_scaled]
        truth_colourfulness = [measures.colourfulness(image) for image in rgb]
        lightness = [color.unscale_l(np.asarray(image))[..., 0] for image in l_scaled]
        for index, value in enumerate(truth_colourfulness):
            hue = _hue_measures(truth_ab[index], tallies["ground truth"])
            blotches = measures.blotchiness(lightness[index], truth_ab[index])
            _add(sums["ground truth"], {"colourfulness": value, "blotchiness": blotches, **hue})
            histograms["ground truth"] += measures.ab_histogram(truth_ab[index])
        room = num_samples - len(samples["ground truth"])
        for index in range(min(room, len(batch))):
            samples["ground truth"].append(_thumbnail(rgb[index], image_size))
            gray = _to_rgb(l_scaled[index], np.zeros_like(ab_scaled[index]))
            samples["gray input"].append(_thumbnail(gray, image_size))
        for name, predict in predictors.items():
            for index, (predicted_rgb, predicted_ab) in enumerate(predict(batch)):
                if saver is not None:
                    saver.save(name, count + index, files[index] if files else None, predicted_rgb)
                histograms[name] += measures.ab_histogram(predicted_ab)
                if len(samples[name]) < num_samples:
                    samples[name].append(_thumbnail(predicted_rgb, image_size))
                values = _image_metrics(predicted_rgb, rgb[index], predicted_ab, truth_ab[index])
                values["blotchiness"] = measures.blotchiness(lightness[index], predicted_ab)
                if weights is not None:
                    values["rebalanced_auc"] = measures.rebalanced_auc(predicted_ab, truth_ab[index], weights)
                values["delta_m"] = values["colourfulness"] - truth_colourfulness[index]
                values.update(_hue_measures(_output_ab(predicted_rgb), tallies[name]))
                _add(sums[name], values)
                file = {"file": files[index]} if files else {}
                rows.append({"image": count + index, **file, "model": name, **values})
        previous_ab = np.asarray(ab_scaled[-1])
        count += len(batch)
        if progress:
            progress(len(batch))
        if limit is not None and count >= limit:
            break
    if count == 0:
        raise ValueError(f"{data}: no images to evaluate")
    summary = {name: {key: value / count for key, value in totals.items()} for name, totals in sums.items()}
    for name in summary:
        summary[name].update(measures.distribution_summary(histograms[name]))
        summary[name].update(_pooled_colour_measures(summary[name], tallies[name]))
        if name != "ground truth":
            summary[name]["ab_intersection"] = measures.histogram_intersection(
                histograms[name], histograms["ground truth"]
            )
    return EvaluationResult(summary, rows, histograms, samples, count, str(data), image_size, full_resolution,
                            render_size=render_size)  # fmt: skip


def check_predictions_folder(folder: str | os.PathLike, overwrite: bool = False) -> None:
    """Refuse to write predictions over those of an earlier run unless ``overwrite``.

    Raises:
        FileExistsError: ``folder`` already holds PNG images (and not ``overwrite``).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file; --save-predictions needs a folder")
    earlier = next(folder.rglob("*.png"), None) if folder.is_dir() else None
    if earlier is not None and not overwrite:
        raise FileExistsError(
            f"{folder} already holds predictions ({earlier.name} ...); pass --overwrite to replace them, "
            "or choose another folder"
        )


class _PredictionWriter:
    """Writes each scored image as a PNG (atomically, with the umask's mode).

    Photos (``files`` given) are named as ``colorize predict`` names its outputs
    (:func:`colorize.inference.output_path_for`, sub-folders below ``data`` kept, and
    ``photo_jpg_colorized.png`` where ``photo.jpg`` and ``photo.png`` would share a name),
    so the two folders compare file by file; images of a prepared set by position.
    """

    def __init__(self, folder, names: list[str], data, files: list[Path] | None):
        from colorize import inference

        folder = Path(folder)
        self.folders = {name: folder / name if len(names) > 1 else folder for name in names}
        root = Path(data) if Path(data).is_dir() else None
        named = {str(path): inference.output_path_for(path, root, Path()) for path in files or []}
        shared = collections.Counter(named.values())
        for path in files or []:
            if shared[named[str(path)]] > 1:
                suffix = f"_{path.suffix.lower().lstrip('.')}_colorized"
                named[str(path)] = inference.output_path_for(path, root, Path(), suffix)
        self.targets = named  # photo -> its path below a model's folder

    def save(self, name: str, index: int, file: str | None, rgb: np.ndarray) -> Path:
        from colorize import visualize

        relative = self.targets[file] if file is not None else Path(f"{index:05d}_colorized.png")
        path = self.folders[name] / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return visualize.save_image(path, np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8))


def _to_rgb(l_scaled: np.ndarray, ab_scaled: np.ndarray) -> np.ndarray:
    """RGB of scaled L and ab, converted as ``colorize predict`` converts (lightness kept,
    out-of-gamut colours desaturated, not clipped per channel); pixels with a*b* exactly 0
    come out exactly neutral.

    float32 Lab -> RGB leaves channel differences of ~1e-7 on neutral pixels, which
    8-bit rounding can turn into a 1/255 tint; a gray prediction must score colourfulness 0.
    """
    rgb = np.clip(np_ops.model_io_to_rgb_keeping_l(l_scaled, ab_scaled), 0.0, 1.0)
    neutral = np.all(np.asarray(ab_scaled) == 0, axis=-1)
    if neutral.any():
        rgb = rgb.copy()
        rgb[neutral] = rgb[neutral].mean(axis=-1, keepdims=True)
    return rgb


def _output_ab(rgb: np.ndarray) -> np.ndarray:
    """a*b* (H, W, 2) of an output RGB image in [0, 1]: the colours a user sees, after gamut mapping."""

    return np_ops.rgb_to_lab(np.asarray(rgb, np.float32))[..., 1:]


def _hue_measures(ab: np.ndarray, tally: measures.HueTally) -> dict[str, float]:
    """One image's hue entropy and warm share; its pixels are also added to the set's ``tally``."""
    tally.add(ab)
    return {"hue_entropy": measures.hue_entropy(ab), "warm_share": measures.warm_share(ab)}


def _pooled_colour_measures(means: dict, tally: measures.HueTally) -> dict[str, float]:
    """Hue entropy and warm share of all pixels of the set pooled (the per-image mean is kept
    as ``hue_entropy_per_image``), and the share of chromatic pixels."""
    return {
        "hue_entropy": tally.hue_entropy,
        "hue_entropy_per_image": means.get("hue_entropy", 0.0),
        "warm_share": tally.warm_share,
        "chromatic_share": tally.chromatic_share,
    }


def _thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """A centre square of ``size`` pixels for the sample grid (full-resolution photos differ in size)."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return np.clip(resize(image[top : top + side, left : left + side], size, size), 0.0, 1.0)


def _add(totals: dict, values: dict) -> None:
    for key, value in values.items():
        if math.isfinite(value):
            totals[key] = totals.get(key, 0.0) + value
        else:  # PSNR of a perfect prediction: cap at 100 dB so means stay finite
            totals[key] = totals.get(key, 0.0) + (100.0 if value > 0 else 0.0)


def _class_weights(data) -> np.ndarray | None:
    """The rebalanced AuC's class weights from a prepared set's a*b* distribution (None for a plain folder)."""
    from colorize.data import pipeline

    try:
        return measures.class_weights(*pipeline.load_ab_distribution(data))
    except (FileNotFoundError, OSError, ValueError):
        return None


def _image_metrics(predicted_rgb, truth_rgb, predicted_ab, truth_ab) -> dict[str, float]:
    return {
        "auc": measures.auc(predicted_ab, truth_ab),
        "threshold_accuracy": measures.threshold_accuracy(predicted_ab, truth_ab) * 100.0,
        "rgb_mse": measures.rgb_mse(predicted_rgb, truth_rgb),
        "rgb_mae": measures.rgb_mae(predicted_rgb, truth_rgb),
        "ab_mse": measures.ab_mse(predicted_ab, truth_ab),
        "ab_mae": measures.ab_mae(predicted_ab, truth_ab),
        "psnr": measures.psnr(predicted_rgb, truth_rgb),
        "ssim": measures.ssim(predicted_rgb, truth_rgb),
        "colourfulness": measures.colourfulness(predicted_rgb),
    }


COLOUR_MEASURES_TEXT = (
    "blotch: share (%) of flat pixel pairs (4 px apart at 256 px, no lightness edge) whose a*b* jump by",
    "> 10: colour patches without a cause in the photo (lower is better; gray scores 0).",
    "hue_H: hue entropy in bits (hue angle of a*b* in 18 sectors of 20 degrees, over the pixels with",
    "chroma > 10, all images' pixels pooled; one hue = 0, all 18 equally = 4.17, gray = 0); warm: share",
    "of those pixels whose hue lies in [0, 90) degrees (skin, sepia, brown; 0 without chromatic pixels).",
)
REBALANCED_AUC_TEXT = (
    "AuC rebal: AuC with each pixel weighted by the inverse frequency of its true colour in the",
    "prepared set's a*b* distribution (Zhang et al.'s class-rebalanced AuC; only for a prepared set).",
)
AB_INTERSECTION_TEXT = (
    "ab_inter: intersection of the predicted and true a*b* histograms (sum of the bin-wise minimum;",
    "1 = the same distribution). Random colours score well on these: read them beside AuC and MAE.",
)


def format_table(result: EvaluationResult, markdown: bool = True) -> str:
    """The side-by-side table (models as rows, as in the VGGFace fusion paper's Tables V-VI and the classification report's Table 1)."""
    # only the measures some row has (photos without truth have no pixel metrics)
    columns = [column for column in COLUMNS if any(column[0] in values for values in result.summary.values())]
    headings = ["model"] + [heading for _, heading, _ in columns] + ["empty buckets %", "largest bucket %"]
    lines = []
    for name, values in result.summary.items():
        cells = [name]
        for key, _, fmt in columns:
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
    """Write metrics.json, per_image.csv, report.md, ab_distribution.png and samples.png
    (contact_sheet.png instead of samples.png for photos without colour truth).

    Returns:
        ``{name: path}`` of the files written (each written atomically).
    """
    from colorize import visualize

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not result.truth:
        return _write_colour_report(result, output_dir, title)
    files = {}
    payload = {"data": result.data, "num_images": result.num_images, "image_size": result.image_size,
               "full_resolution": result.full_resolution, "models": result.summary}  # fmt: skip
    if result.full_resolution:
        payload["render_size"] = result.render_size
    files["metrics"] = visualize.atomic_write_bytes(
        output_dir / "metrics.json", (json.dumps(payload, indent=2) + "\n").encode()
    )
    buffer = io.StringIO()
    fields = ["image"] + (["file"] if result.rows and "file" in result.rows[0] else []) + ["model"]
    fields += [key for key, _, _ in COLUMNS if any(key in row for row in result.rows[:1])]  # per-image measures
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
        f"Data: `{result.data}` — {result.num_images} images compared at "
        + (f"their full resolution, colorized as `colorize predict` does ({_render_text(result)})."
           if result.full_resolution else f"{result.image_size} x {result.image_size}."),
        "Each colour image is turned gray, colorized, and compared with itself. `gray` predicts a*b* = 0;",
        "`random` uses the a*b* of another image of the set. AuC: area under the share of pixels",
        "within t (a*b* Euclidean distance), t = 0..150, in percent; acc@10: share within 10.",
        "MSE/MAE (RGB) on 0-255; ΔM: mean colourfulness difference to the ground truth.",
        *COLOUR_MEASURES_TEXT,
        *REBALANCED_AUC_TEXT,
        *AB_INTERSECTION_TEXT,
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
    """Log-scaled a*b* histograms, one panel per model and the ground truth (as in the U-Net / uVGG-net poster, fig. 6)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from colorize import visualize

    names = list(histograms)
    figure, axes = plt.subplots(1, len(names), figsize=(3 * len(names), 3.2), squeeze=False)
    edges = measures.AB_EDGES
    for axis, name in zip(axes[0], names):
        histogram = histograms[name]
        image = measures.log_histogram(histogram).T
        axis.imshow(image, origin="lower", extent=(edges[0], edges[-1], edges[0], edges[-1]), cmap="viridis")
        summary = measures.distribution_summary(histogram)
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


# ----------------------------------------------------------- photos without colour truth

MEASURE_MAX_PIXELS = 4_000_000  # larger outputs are measured area-downscaled to this many pixels
CONTACT_SHEET_SIZE = 24  # photos on contact_sheet.png
CONTACT_THUMBNAIL = 192  # long side of its thumbnails, pixels


def evaluate_without_truth(
    models: dict,
    data: str | os.PathLike,
    render_size: int | None = None,
    limit: int | None = None,
    num_samples: int = CONTACT_SHEET_SIZE,
    progress: Callable[[int], None] | None = None,
) -> EvaluationResult:
    """The colour measures of models' colorizations of genuine black-and-white photos.

    There is no colour truth, so there are no pixel metrics: only colourfulness, hue
    entropy and the warm share of each model's output (see :data:`COLOUR_MEASURES_TEXT`),
    with its a*b* histogram and a contact sheet. Each photo is colorized by
    :func:`colorize.inference.colorize_image`, the path ``colorize predict`` takes (full
    resolution, gamut mapping, 8-bit output), and measured on that output. Files that
    cannot be read are skipped and listed in ``result.skipped``.

    Args:
        models: ``{name: keras.Model}`` (baselines need truth and are refused).
        data: a folder of photos (searched recursively), a file, or a ``.txt`` list of paths.
        render_size: the long side the models see (default: as ``colorize predict``).
        limit: stop after this many photos.
        num_samples: photos kept for the contact sheet.
        progress: optional callable ``progress(n)`` after each photo.

    Returns:
        An :class:`EvaluationResult` with ``truth=False``.

    Example:
        >>> result = evaluate_without_truth({"default": saving.load_model()}, "old_photos/")  # doctest: +SKIP
        >>> result.summary["default"]["warm_share"]  # doctest: +SKIP
    """
    from colorize.data import pipeline
    from colorize.errors import ColorizeError
    from colorize.infer import colorize_image, runtime
    from colorize.io.files import find_images

    if not models:
        raise ValueError("nothing to evaluate: give at least one model")
    baselines = [name for name, model in models.items() if isinstance(model, str)]
    if baselines:
        raise ValueError(f"the baselines {baselines} need colour truth; without truth, evaluate models only")
    if pipeline.is_prepared_dir(data):
        raise ValueError(f"{data} is a prepared data set of colour photos; without truth, give a folder of photos")
    runners = {name: runtime.Runner.create(model) for name, model in models.items()}
    files, passed_over = find_images([data])
    skipped = [(str(path), reason) for path, reason in passed_over]
    sums: dict[str, dict[str, float]] = {name: {} for name in models}
    histograms = {name: np.zeros((len(measures.AB_EDGES) - 1,) * 2) for name in models}
    tallies = {name: measures.HueTally() for name in models}
    samples: dict[str, list[np.ndarray]] = {name: [] for name in ["gray input", *models]}
    rows: list[dict] = []
    count = 0
    for path in files:
        if limit is not None and count >= limit:
            break
        try:
            outputs = {
                name: colorize_image(path, model=runner, render_size=render_size)
                for name, runner in runners.items()
            }
        except (ColorizeError, OSError, ValueError) as error:
            log.warning("skipping %s: %s", path, error)
            skipped.append((str(path), errors.one_line(error)))
            continue
        for name, output in outputs.items():
            rgb = _measured_rgb(output)
            ab = _output_ab(rgb)
            histograms[name] += measures.ab_histogram(ab)
            values = {"colourfulness": measures.colourfulness(rgb), **_hue_measures(ab, tallies[name]),
                      "blotchiness": _output_blotchiness(rgb, ab)}  # fmt: skip
            _add(sums[name], values)
            rows.append({"image": count, "file": str(path), "model": name, **values})
            if len(samples[name]) < num_samples:
                samples[name].append(_fit(rgb, CONTACT_THUMBNAIL))
        if len(samples["gray input"]) < num_samples:
            samples["gray input"].append(_gray(samples[next(iter(models))][-1]))
        count += 1
        if progress:
            progress(1)
    if count == 0:
        reason = f" ({len(skipped)} files skipped, e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise ValueError(f"{data}: no images found to evaluate{reason}")
    summary = {name: {key: value / count for key, value in totals.items()} for name, totals in sums.items()}
    for name in summary:
        summary[name].update(measures.distribution_summary(histograms[name]))
        summary[name].update(_pooled_colour_measures(summary[name], tallies[name]))
    size = render_size or 0
    return EvaluationResult(summary, rows, histograms, samples, count, str(data), size, True, False, skipped)


def _output_blotchiness(rgb: np.ndarray, ab: np.ndarray) -> float:
    """:func:`colorize.measures.blotchiness` of an output image (its own L and a*b*)."""
    return measures.blotchiness(np_ops.rgb_to_lab(rgb)[..., 0], ab)


def _measured_rgb(output: np.ndarray) -> np.ndarray:
    """A colorize_image output (uint8 / uint16 / float, RGB or RGBA) as float RGB in [0, 1],
    area-downscaled to at most :data:`MEASURE_MAX_PIXELS` (bounded memory for big scans)."""
    rgb = _float_rgb(output)
    height, width = rgb.shape[:2]
    if height * width > MEASURE_MAX_PIXELS:
        scale = math.sqrt(MEASURE_MAX_PIXELS / (height * width))
        rgb = resize(rgb, max(1, int(height * scale)), max(1, int(width * scale)))
    return rgb


def _float_rgb(output: np.ndarray) -> np.ndarray:
    """A colorize_image output (uint8 / uint16 / float, RGB or RGBA) as float32 RGB in [0, 1]."""
    rgb = output[..., :3]
    peak = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(rgb.dtype, 1.0)
    return rgb.astype(np.float32) / np.float32(peak)


def _fit(image: np.ndarray, size: int) -> np.ndarray:
    """The whole image with its long side ``size`` pixels (aspect ratio kept)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    return np.clip(resize(image, max(1, round(height * scale)), max(1, round(width * scale))), 0.0, 1.0)


def _gray(rgb: np.ndarray) -> np.ndarray:
    """The image turned gray (its CIELAB L with a*b* = 0): what the model saw."""

    lab = np_ops.rgb_to_lab(np.asarray(rgb, np.float32))
    lab[..., 1:] = 0.0
    return np_ops.lab_to_rgb(lab)


def contact_sheet_columns(samples: dict[str, list[np.ndarray]], groups: int | None = None) -> list:
    """Arrange gray | model... thumbnails of many photos into side-by-side groups of columns.

    Photos run down ``groups`` groups (about square by default), each group titled
    ``gray input | model ...``; the last group is padded with blank cells.
    """
    names = [name for name, images in samples.items() if images]
    count = len(samples[names[0]])
    if groups is None:
        groups = max(1, round(math.sqrt(count / len(names))))
    rows = math.ceil(count / groups)
    blank = np.ones((8, 8, 3), np.float32)
    columns = []
    for group in range(math.ceil(count / rows)):
        for name in names:
            cells = list(samples[name][group * rows : (group + 1) * rows])
            columns.append((name, cells + [blank] * (rows - len(cells))))
    return columns


def _render_text(result: EvaluationResult) -> str:
    if result.render_size:
        return f"models see a long side of {result.render_size} px"
    return "at its default render size"


def _write_colour_report(result: EvaluationResult, output_dir: Path, title: str) -> dict:
    """write_report for photos without colour truth: the colour measures and a contact sheet."""
    from colorize import visualize

    files = {}
    payload = {"data": result.data, "num_images": result.num_images, "truth": False,
               "render_size": result.image_size or None, "skipped": [list(item) for item in result.skipped],
               "models": result.summary}  # fmt: skip
    files["metrics"] = visualize.atomic_write_bytes(
        output_dir / "metrics.json", (json.dumps(payload, indent=2) + "\n").encode()
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["image", "file", "model", *COLOUR_KEYS], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(result.rows)
    files["per_image"] = visualize.atomic_write_bytes(output_dir / "per_image.csv", buffer.getvalue().encode())
    files["distribution"] = plot_ab_distributions(output_dir / "ab_distribution.png", result.histograms)
    files["contact_sheet"] = visualize.save_image_grid(
        output_dir / "contact_sheet.png", contact_sheet_columns(result.samples), cell_size=2.0
    )
    shown = len(next(iter(result.samples.values())))
    report = [
        f"# {title}",
        "",
        f"Data: `{result.data}` — {result.num_images} photos without colour truth, colorized as "
        "`colorize predict` does (full resolution"
        + (f", models see a long side of {result.image_size} px" if result.image_size else "") + ").",
        "No pixel metrics: only the colours of the outputs. colourfulness: Hasler and Suesstrunk's M.",
        *COLOUR_MEASURES_TEXT,
        "",
        format_table(result),
        "",
        *( [f"{len(result.skipped)} files skipped: "
            + "; ".join(f"`{file}` ({reason})" for file, reason in result.skipped[:10])
            + (" ..." if len(result.skipped) > 10 else ""), ""] if result.skipped else []),  # fmt: skip
        "![a*b* distributions](ab_distribution.png)",
        "",
        f"![gray | models, the first {shown} photos](contact_sheet.png)",
        "",
    ]
    files["report"] = visualize.atomic_write_bytes(output_dir / "report.md", "\n".join(report).encode())
    return files


GRAY_TRUTH_COLOURFULNESS = 3.0  # mean truth colourfulness below this: the photos hold no colour to compare with


def lacks_colour_truth(result: EvaluationResult) -> bool:
    """True when the truth images are (nearly) all gray: the pixel metrics then measure nothing.

    Example:
        >>> lacks_colour_truth(evaluate({"gray": "gray"}, "gray_photos/"))  # doctest: +SKIP
        True
    """
    truth = result.summary.get("ground truth", {}).get("colourfulness")
    return truth is not None and truth < GRAY_TRUTH_COLOURFULNESS
