"""Evaluation with colour truth: each colour photo turned gray, colorized by every model and baseline, and scored against itself.

Images are streamed in batches (bounded memory), from a prepared data set at the working
size or from a folder of photos at each one's own size (``full_resolution``, colorized as
``colorize predict`` does). Every paper's measure is computed per image and averaged:
AuC and acc@10 of the a*b*, RGB and a*b* errors, PSNR, SSIM, colourfulness, the hue
measures, blotchiness and, for a prepared set, the class-rebalanced AuC.

Example:
    >>> from colorize import evaluate, saving
    >>> models = {"unet": saving.load_model("runs/unet"), "gray": "gray"}  # doctest: +SKIP
    >>> result = evaluate.evaluate(models, "data/hf128")  # doctest: +SKIP
    >>> evaluate.write_report(result, "report/")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from colorize import color, measures
from colorize.color import gamut
from colorize.evaluate import predictors, sources
from colorize.evaluate.predictions import PredictionWriter, check_predictions_folder
from colorize.evaluate.scoring import Accumulator, EvaluationResult, output_ab
from colorize.io.decode import resize

GRAY_TRUTH_COLOURFULNESS = 3.0  # mean truth colourfulness below this: the photos hold no colour to compare with


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
            colorizes each file with :func:`colorize.infer.colorize_image`, as
            ``colorize predict`` does (the a*b* measures are those of its output).
        progress: optional callable ``progress(n)`` after each batch of n images.
        save_predictions: a folder to write each scored image to as a PNG (a sub-folder
            per model when there are several): at full resolution named as ``colorize
            predict`` names its outputs (``photo_colorized.png``, sub-folders kept), else
            ``NNNNN_colorized.png`` by position (the ``image`` column of the report).
        overwrite: replace predictions already in ``save_predictions``.

    Returns:
        An :class:`EvaluationResult`.

    Raises:
        ValueError: no models, no images, or a prepared set with ``full_resolution``.
        FileExistsError: ``save_predictions`` already holds predictions (and not ``overwrite``).

    Example:
        >>> result = evaluate({"gray": "gray", "random": "random"}, "photos/", limit=100)  # doctest: +SKIP
        >>> result.summary["gray"]["auc"]  # doctest: +SKIP
    """
    from colorize.data import records

    if not models:
        raise ValueError("nothing to evaluate: give at least one model or --baselines")
    records.check_complete(data)
    if save_predictions is not None:
        check_predictions_folder(save_predictions, overwrite)
    render_size = image_size if full_resolution else None
    if image_size is None:
        image_size = sources.working_size(models, data)
    photos = sources.photo_files(data) if full_resolution else None
    if full_resolution:
        batches = sources.full_resolution_batches(photos, batch_size)
    else:
        batches = sources.working_size_batches(data, split, image_size, batch_size)
    predict_all = {name: predictors.predictor(model, render_size) for name, model in models.items()}
    weights = _class_weights(data)
    saver = None if save_predictions is None else PredictionWriter(save_predictions, list(models), data, photos)
    scores = Accumulator([*models, "ground truth"], sample_columns=("gray input",))
    samples = scores.samples
    count = 0
    previous_ab = None
    for l_scaled, ab_scaled, rgb, files in batches:
        if limit is not None:
            keep = max(0, limit - count)
            l_scaled, ab_scaled, rgb = l_scaled[:keep], ab_scaled[:keep], rgb[:keep]
            files = files[:keep] if files else files
        if len(l_scaled) == 0:
            break
        batch = sources.Batch(l_scaled, ab_scaled, rgb, previous_ab, files)
        truth_ab = [color.unscale_ab(ab) for ab in ab_scaled]
        truth_colourfulness = [measures.colourfulness(image) for image in rgb]
        lightness = [color.unscale_l(np.asarray(image))[..., 0] for image in l_scaled]
        for index, value in enumerate(truth_colourfulness):
            hue = scores.hue_measures("ground truth", truth_ab[index])
            blotches = measures.blotchiness(lightness[index], truth_ab[index])
            scores.add("ground truth", truth_ab[index], {"colourfulness": value, "blotchiness": blotches, **hue})
        room = num_samples - len(samples["ground truth"])
        for index in range(min(room, len(batch))):
            samples["ground truth"].append(_thumbnail(rgb[index], image_size))
            gray = gamut.model_io_to_rgb(l_scaled[index], np.zeros_like(ab_scaled[index]))
            samples["gray input"].append(_thumbnail(gray, image_size))
        for name, predict in predict_all.items():
            for index, (predicted_rgb, predicted_ab) in enumerate(predict(batch)):
                if saver is not None:
                    saver.save(name, count + index, files[index] if files else None, predicted_rgb)
                if len(samples[name]) < num_samples:
                    samples[name].append(_thumbnail(predicted_rgb, image_size))
                values = _image_metrics(predicted_rgb, rgb[index], predicted_ab, truth_ab[index])
                values["blotchiness"] = measures.blotchiness(lightness[index], predicted_ab)
                if weights is not None:
                    values["rebalanced_auc"] = measures.rebalanced_auc(predicted_ab, truth_ab[index], weights)
                values["delta_m"] = values["colourfulness"] - truth_colourfulness[index]
                values.update(scores.hue_measures(name, output_ab(predicted_rgb)))
                file = {"file": files[index]} if files else {}
                scores.add(name, predicted_ab, values, row={"image": count + index, **file})
        previous_ab = np.asarray(ab_scaled[-1])
        count += len(batch)
        if progress:
            progress(len(batch))
        if limit is not None and count >= limit:
            break
    if count == 0:
        raise ValueError(f"{data}: no images to evaluate")
    summary = scores.summary(count)
    for name in models:
        summary[name]["ab_intersection"] = measures.histogram_intersection(
            scores.histograms[name], scores.histograms["ground truth"]
        )
    return EvaluationResult(summary, scores.rows, scores.histograms, samples, count, str(data), image_size,
                            full_resolution, render_size=render_size)  # fmt: skip


def lacks_colour_truth(result: EvaluationResult) -> bool:
    """True when the truth images are (nearly) all gray: the pixel metrics then measure nothing.

    Example:
        >>> lacks_colour_truth(evaluate({"gray": "gray"}, "gray_photos/"))  # doctest: +SKIP
        True
    """
    truth = result.summary.get("ground truth", {}).get("colourfulness")
    return truth is not None and truth < GRAY_TRUTH_COLOURFULNESS


def _thumbnail(image: np.ndarray, size: int) -> np.ndarray:
    """A centre square of ``size`` pixels for the sample grid (full-resolution photos differ in size)."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return np.clip(resize(image[top : top + side, left : left + side], size, size), 0.0, 1.0)


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
