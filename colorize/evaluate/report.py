"""Reports of an evaluation: the side-by-side table, metrics.json, per_image.csv, report.md and its pictures.

Example:
    >>> from colorize import evaluate
    >>> result = evaluate.evaluate({"gray": "gray"}, "photos/")  # doctest: +SKIP
    >>> print(evaluate.format_table(result, markdown=False))  # doctest: +SKIP
    >>> evaluate.write_report(result, "report/")["report"]  # doctest: +SKIP
    PosixPath('report/report.md')
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from colorize import measures
from colorize.evaluate.scoring import EvaluationResult
from colorize.io.files import atomic_write_bytes

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

COLOUR_MEASURES_TEXT = (
    "blotch: share (%) of flat pixel pairs (4 px apart at 256 px, no lightness edge) whose a*b* differ by",
    "> 2: colour patches and smears without a cause in the photo (lower is better; gray scores 0).",
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
    files["metrics"] = atomic_write_bytes(output_dir / "metrics.json", (json.dumps(payload, indent=2) + "\n").encode())
    buffer = io.StringIO()
    fields = ["image"] + (["file"] if result.rows and "file" in result.rows[0] else []) + ["model"]
    fields += [key for key, _, _ in COLUMNS if any(key in row for row in result.rows[:1])]  # per-image measures
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(result.rows)
    files["per_image"] = atomic_write_bytes(output_dir / "per_image.csv", buffer.getvalue().encode())
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
    files["report"] = atomic_write_bytes(output_dir / "report.md", "\n".join(report).encode())
    return files


def plot_ab_distributions(path: str | os.PathLike, histograms: dict[str, np.ndarray]) -> Path:
    """Log-scaled a*b* histograms, one panel per model and the ground truth (as in the U-Net / uVGG-net poster, fig. 6)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

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
    return atomic_write_bytes(path, buffer.getvalue())


def contact_sheet_columns(samples: dict[str, list[np.ndarray]], groups: int | None = None) -> list:
    """Arrange gray | model... thumbnails of many photos into side-by-side groups of columns.

    Photos run down ``groups`` groups (about square by default), each group titled
    ``gray input | model ...``; the last group is padded with blank cells.

    Example:
        >>> samples = {"gray input": [np.zeros((4, 4, 3))] * 5, "m": [np.ones((4, 4, 3))] * 5}
        >>> [name for name, _ in contact_sheet_columns(samples, groups=2)]
        ['gray input', 'm', 'gray input', 'm']
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
    files["metrics"] = atomic_write_bytes(output_dir / "metrics.json", (json.dumps(payload, indent=2) + "\n").encode())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["image", "file", "model", *COLOUR_KEYS], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(result.rows)
    files["per_image"] = atomic_write_bytes(output_dir / "per_image.csv", buffer.getvalue().encode())
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
    files["report"] = atomic_write_bytes(output_dir / "report.md", "\n".join(report).encode())
    return files
