"""Evaluation: every paper's measure for several models and the baselines, side by side, with a report.

Each colour photo is turned gray, colorized by every model and compared with itself
(:func:`evaluate`); genuine black-and-white photos get the colour measures of each model's
output only (:func:`evaluate_without_truth`). One module per job, imports pointing one way:

    sources.py        the colour photos to score against, in batches (prepared split or full resolution)
    scoring.py        the one accumulator of per-image measures, and EvaluationResult
    predictors.py     models and the gray / random baselines as batch -> scored (RGB, a*b*)
    predictions.py    the scored images as PNG files, named as ``colorize predict`` names its outputs
    with_truth.py     evaluate: colour photos scored against themselves
    without_truth.py  evaluate_without_truth: black-and-white photos, colour measures only
    report.py         the table, metrics.json, per_image.csv, report.md and its pictures

Importing this package imports neither Keras nor TensorFlow: photos at full resolution
through ONNX models are scored without them.

Example:
    >>> from colorize import evaluate, saving
    >>> models = {"unet": saving.load_model("runs/unet"), "gray": "gray"}  # doctest: +SKIP
    >>> result = evaluate.evaluate(models, "data/hf128")  # doctest: +SKIP
    >>> evaluate.write_report(result, "report/")  # doctest: +SKIP
"""

from colorize.evaluate.predictions import check_predictions_folder
from colorize.evaluate.predictors import BASELINES
from colorize.evaluate.report import (
    COLUMNS,
    contact_sheet_columns,
    format_table,
    plot_ab_distributions,
    write_report,
)
from colorize.evaluate.scoring import EvaluationResult
from colorize.evaluate.sources import working_size
from colorize.evaluate.with_truth import evaluate, lacks_colour_truth
from colorize.evaluate.without_truth import (
    CONTACT_SHEET_SIZE,
    CONTACT_THUMBNAIL,
    evaluate_without_truth,
)

__all__ = [
    "BASELINES",
    "COLUMNS",
    "CONTACT_SHEET_SIZE",
    "CONTACT_THUMBNAIL",
    "EvaluationResult",
    "check_predictions_folder",
    "contact_sheet_columns",
    "evaluate",
    "evaluate_without_truth",
    "format_table",
    "lacks_colour_truth",
    "plot_ab_distributions",
    "working_size",
    "write_report",
]
