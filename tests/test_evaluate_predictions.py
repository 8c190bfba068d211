"""colorize.evaluate.predictions: scored images saved under predict's names, with predict's pixels."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from colorize import evaluate
from colorize.cli import main


def _read_rgb(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), np.float64) / 255.0


def test_full_resolution_save_predictions_equal_predict(tmp_path, model_path):
    from conftest import make_portrait_like
    from skimage import data as samples

    from colorize.infer import runtime

    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    Image.fromarray(samples.astronaut()[::4, ::4]).save(photos / "astronaut.png")  # 128 x 128
    Image.fromarray(samples.coffee()[::5, ::5]).save(photos / "coffee.jpg")  # 80 x 120
    Image.fromarray(make_portrait_like(72, seed=3)[:, :50]).save(photos / "sub" / "tall.png")  # 72 x 50
    runner = CliRunner()
    scored, predicted = tmp_path / "scored", tmp_path / "predicted"
    args = ["evaluate", str(model_path), str(photos), "--full-resolution", "--save-predictions", str(scored),
            "-o", str(tmp_path / "report")]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["predict", str(photos), "-o", str(predicted), "--model", str(model_path)])
    assert result.exit_code == 0, result.output
    names = sorted(path.relative_to(predicted) for path in predicted.rglob("*.png"))
    assert names == sorted(path.relative_to(scored) for path in scored.rglob("*.png"))
    assert [str(name) for name in names] == ["astronaut_colorized.png", "coffee_colorized.png",
                                             "sub/tall_colorized.png"]  # fmt: skip
    for name in names:
        assert np.array_equal(_read_rgb(scored / name), _read_rgb(predicted / name))  # the same pixels
    # the scored images are those measured: rgb_mse of each row is that of the saved PNG
    model = runtime.load_runner(model_path, "auto")  # as the CLI runs it
    measured = evaluate.evaluate({"tiny": model}, photos, full_resolution=True)
    rows = {Path(row["file"]).name: row for row in measured.rows}
    truth = _read_rgb(photos / "astronaut.png")
    mse = ((_read_rgb(scored / "astronaut_colorized.png") - truth) * 255.0) ** 2
    assert rows["astronaut.png"]["rgb_mse"] == pytest.approx(mse.mean(), rel=1e-4)
    again = [*args[:-1], str(tmp_path / "report2")]  # a new report folder, the same predictions folder
    result = runner.invoke(main, again)
    assert result.exit_code == 1 and "already holds predictions" in result.output and "--overwrite" in result.output
    result = runner.invoke(main, [*again, "--overwrite"])
    assert result.exit_code == 0, result.output


def test_save_predictions_of_a_prepared_set_at_the_evaluated_size(image_folder, tmp_path):
    from colorize.data import prepare

    prepare.prepare([image_folder], tmp_path / "prepared", image_size=32, split=(0, 0, 1), workers=1, progress=False)
    scored = tmp_path / "scored"
    result = evaluate.evaluate({"gray": "gray", "random": "random"}, tmp_path / "prepared", batch_size=4,
                                 save_predictions=scored)  # fmt: skip
    for name in ("gray", "random"):  # one sub-folder per model
        files = sorted((scored / name).glob("*.png"))
        assert [path.name for path in files] == [f"{index:05d}_colorized.png" for index in range(result.num_images)]
        assert all(_read_rgb(path).shape == (32, 32, 3) for path in files)
    gray = _read_rgb(scored / "gray" / "00000_colorized.png")
    assert np.array_equal(gray[..., 0], gray[..., 1])  # ab = 0: neutral
    with pytest.raises(FileExistsError, match="already holds predictions"):
        evaluate.evaluate({"gray": "gray"}, tmp_path / "prepared", save_predictions=scored)

