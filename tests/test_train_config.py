"""colorize.train.config: TrainConfig's checks and the YAML/JSON config file."""

import pytest
from click.testing import CliRunner

from colorize.cli import main
from conftest import one_line_error, tiny_train_args


def test_bad_learning_rates_are_refused(image_folder, tmp_path):
    from colorize.train.config import TrainConfig

    for value in ("nan", "inf", "1e30", "-1"):
        result = CliRunner().invoke(main, tiny_train_args(image_folder, tmp_path / "r", "--learning-rate", value))
        assert "--learning-rate" in one_line_error(result, code=2)
    for value in (float("nan"), float("inf"), 1e30, -5, 0, "abc"):
        with pytest.raises(ValueError, match="learning_rate"):
            TrainConfig(data="x", learning_rate=value)
    for value in (0, -0.1, 1.5, float("nan"), "abc"):
        with pytest.raises(ValueError, match="rebalance"):
            TrainConfig(data="x", rebalance=value)
    result = CliRunner().invoke(main, tiny_train_args(image_folder, tmp_path / "r", "--rebalance", "0"))
    assert "--rebalance" in one_line_error(result, code=2)
    settings = tmp_path / "s.yaml"
    settings.write_text("learning_rate: -5\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(tmp_path / "r")])
    assert "learning_rate" in one_line_error(result)
    assert not (tmp_path / "r").exists()


def test_yaml_syntax_error_names_file_and_line(image_folder, tmp_path):
    settings = tmp_path / "s.yaml"
    settings.write_text("epochs: [1\n  image_size: : 32\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings)])
    output = one_line_error(result)
    assert "s.yaml" in output and "line" in output


@pytest.mark.parametrize("key", ["augment", "mixed_precision", "jit", "cache_embeddings"])
@pytest.mark.parametrize("value", ["no", "false", 1])
def test_yaml_booleans_are_type_checked(key, value):
    from colorize.train.config import TrainConfig

    with pytest.raises(ValueError, match=f"{key} must be true or false. Received: {key}={value!r}"):
        TrainConfig.from_dict({"data": "x", key: value})


def test_a_quoted_no_in_yaml_is_a_one_line_error(image_folder, tmp_path):
    settings = tmp_path / "s.yaml"
    settings.write_text('augment: "no"\n')
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(tmp_path / "r")])
    assert "augment must be true or false" in one_line_error(result)
    assert not (tmp_path / "r").exists()


def test_seed_bound_says_zero():
    from colorize.train.config import TrainConfig

    assert TrainConfig(data="x", seed=0).seed == 0
    with pytest.raises(ValueError, match=r"seed must be at least 0\. Received: seed=-5"):
        TrainConfig(data="x", seed=-5)


@pytest.mark.parametrize("name", ["degrade", "film"])
def test_input_look_reaches_the_config_and_resume_keeps_it(name, image_folder, tmp_path, monkeypatch):
    import json

    from colorize import train as training
    from colorize.train.config import TrainConfig

    seen = []

    def fake_train(config, resume=False):
        seen.append(config)
        raise training.TrainingStopped("stopped before training")

    monkeypatch.setattr(training, "train", fake_train)
    CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "r"), f"--{name}", "0.3"])
    assert getattr(seen[-1], name) == 0.3
    run = tmp_path / "run"
    run.mkdir()
    values = TrainConfig(data=str(image_folder), output_dir=str(run), **{name: 0.4}).to_dict()
    for saved, expected in ((values, 0.4), ({k: v for k, v in values.items() if k != name}, 0.0)):
        (run / "config.json").write_text(json.dumps(saved))  # without the key: a run of an older version
        CliRunner().invoke(main, ["train", "--resume", str(run)])
        assert getattr(seen[-1], name) == expected
    result = CliRunner().invoke(main, ["train", str(image_folder), f"--{name}", "1.5"])
    assert f"--{name}" in one_line_error(result, code=2)
    for value in (True, -0.1, 1.5, "half", float("nan")):
        with pytest.raises(ValueError, match=f"{name} must be a probability"):
            TrainConfig(data="x", **{name: value})


def test_lr_schedule_and_warmup_are_checked_and_reach_the_config(image_folder, tmp_path, monkeypatch):
    from colorize import train as training
    from colorize.train.config import TrainConfig

    with pytest.raises(ValueError, match=r"lr_schedule must be one of \('constant', 'cosine'\)"):
        TrainConfig(data="x", lr_schedule="linear")
    for value in (-1, 2.5, True):
        with pytest.raises(ValueError, match="warmup_steps"):
            TrainConfig(data="x", warmup_steps=value)
    result = CliRunner().invoke(main, ["train", str(image_folder), "--lr-schedule", "step"])
    assert "--lr-schedule" in one_line_error(result, code=2)
    seen = []

    def fake_train(config, resume=False):
        seen.append(config)
        raise training.TrainingStopped("stopped before training")

    monkeypatch.setattr(training, "train", fake_train)
    CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "r"), "--lr-schedule", "cosine",
                              "--warmup-steps", "7"])  # fmt: skip
    assert (seen[-1].lr_schedule, seen[-1].warmup_steps) == ("cosine", 7)
    CliRunner().invoke(main, ["train", str(image_folder), "-o", str(tmp_path / "r")])
    assert (seen[-1].lr_schedule, seen[-1].warmup_steps) == ("constant", 0)


def test_learning_rate_of_warms_up_holds_or_decays():
    from colorize.train.compile import learning_rate_of
    from colorize.train.config import TrainConfig

    assert learning_rate_of(TrainConfig(data="x", learning_rate=3e-4), num_train=100) == 3e-4
    # 100 images at batch 16: 7 steps an epoch, 3 epochs = 21 steps
    held = learning_rate_of(TrainConfig(data="x", learning_rate=1e-3, epochs=3, warmup_steps=4), num_train=100)
    assert [round(float(held(step)), 7) for step in (0, 2, 4, 10, 21)] == [0.0, 5e-4, 1e-3, 1e-3, 1e-3]
    cosine = learning_rate_of(TrainConfig(data="x", learning_rate=1e-3, epochs=3, lr_schedule="cosine"), num_train=100)
    rates = [float(cosine(step)) for step in range(22)]
    assert rates[0] == pytest.approx(1e-3) and rates[21] == pytest.approx(0.0, abs=1e-9)
    assert rates[10] == pytest.approx(5e-4, rel=0.1) and all(a >= b for a, b in zip(rates, rates[1:]))
