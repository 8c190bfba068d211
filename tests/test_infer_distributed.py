"""colorize.infer.distributed: a folder on a local Ray instance gives the local run's bytes and failures, and resumes."""

import hashlib
import os
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_portrait_like, one_line_error
from PIL import Image

from colorize import infer
from colorize.cli import main
from colorize.infer import distributed


def _digests(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.png"))}  # fmt: skip


def _stamps(folder):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*.png"))}


@pytest.fixture(scope="module")
def ray_instance():
    """One Ray instance for the module: 2 CPUs, no dashboard, no usage report."""
    pytest.importorskip("ray.data")
    import ray

    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    with distributed.local_instance(ray, num_cpus=2, log_to_driver=False):
        yield ray


@pytest.fixture
def photos(tmp_path):
    """Four small photos of two shapes (8-bit gray, colour, 16-bit gray, one in a sub-folder) and a corrupt file."""
    folder = tmp_path / "scans"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(make_portrait_like(48, seed=1)).save(folder / "colour.jpg")
    Image.fromarray(make_portrait_like(48, seed=2)[..., 0]).save(folder / "gray.png")
    Image.fromarray((np.linspace(0, 65535, 40 * 64).reshape(40, 64)).astype(np.uint16)).save(folder / "deep.png")
    Image.fromarray(make_portrait_like(64, seed=3)[:40]).save(folder / "sub" / "wide.png")
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    return folder


def test_an_actor_answers_written_kept_or_failed_for_each_file(photos, tmp_path):
    """The actor alone, without Ray: what it answers per file, and the local run's bytes."""
    local = infer.colorize_files([photos / "colour.jpg", photos / "broken.jpg"], tmp_path / "local")
    out = tmp_path / "out"
    out.mkdir()
    (out / "gray_colorized.png").write_bytes(b"mine")
    names = ["colour.jpg", "gray.png", "broken.jpg"]
    rows = {"index": np.arange(3), "input": np.array([str(photos / name) for name in names], object),
            "output": np.array([str(out / f"{name.split('.')[0]}_colorized.png") for name in names], object)}  # fmt: skip
    actor = distributed._Colorizer(model="default", precision="float32", strength=None, suffix="_colorized",
                                   overwrite=False, compare=False, batch_size=8, render_size=None)  # fmt: skip
    answer = actor(rows)
    assert list(answer["index"]) == [0, 1, 2]
    assert list(answer["status"]) == ["written", "kept", "failed"]
    assert answer["detail"][2] == local.failed[0][1]
    assert (out / "gray_colorized.png").read_bytes() == b"mine"
    assert (out / "colour_colorized.png").read_bytes() == (tmp_path / "local" / "colour_colorized.png").read_bytes()


def test_what_would_stop_a_local_run_fails_the_actors_batch_with_the_reason(photos, tmp_path, monkeypatch):
    from colorize.infer import runtime

    def too_big(runner, render_size, shapes):
        raise ValueError("render size 9000 needs 40 GB of memory; at most 3000 fits")

    monkeypatch.setattr(runtime, "check_render_size", too_big)
    rows = {"index": np.arange(2), "input": np.array([str(photos / "gray.png"), str(photos / "deep.png")], object),
            "output": np.array([str(tmp_path / "gray_colorized.png"), str(tmp_path / "deep_colorized.png")], object)}
    actor = distributed._Colorizer(model="default", precision="float32", strength=None, suffix="_colorized",
                                   overwrite=False, compare=False, batch_size=8, render_size=9000)  # fmt: skip
    answer = actor(rows)
    assert list(answer["status"]) == ["failed", "failed"]
    assert set(answer["detail"]) == {"render size 9000 needs 40 GB of memory; at most 3000 fits"}


@pytest.mark.xdist_group("ray")
def test_a_folder_on_ray_writes_the_local_bytes_and_lists_the_bad_file(ray_instance, photos, tmp_path):
    # The fast suite's one Ray test (under xdist each test asking for the instance started its own).
    assert {node["NodeManagerAddress"] for node in ray_instance.nodes()} == {"127.0.0.1"}  # loopback only
    local = infer.colorize_files([photos], tmp_path / "local", batch_size=2)
    result = distributed.colorize_files_on_ray([photos], tmp_path / "ray", batch_size=2)
    assert [(p.name, t.name) for p, t in result.written] == [(p.name, t.name) for p, t in local.written]
    assert [p.name for p, _ in result.failed] == ["broken.jpg"] == [p.name for p, _ in local.failed]
    assert result.failed[0][1] == local.failed[0][1]  # the same one-line reason
    assert len(_digests(tmp_path / "ray")) == 4
    assert _digests(tmp_path / "ray") == _digests(tmp_path / "local")


@pytest.mark.slow  # a second Ray pass; what each actor keeps is checked above without Ray
@pytest.mark.xdist_group("ray")
def test_an_interrupted_folder_on_ray_resumes_without_rewriting_what_it_finished(ray_instance, photos, tmp_path):
    infer.colorize_files([photos], tmp_path / "local", batch_size=2)
    distributed.colorize_files_on_ray([photos], tmp_path / "ray", batch_size=2)
    # An interrupted run: two outputs finished, two never written.
    finished = _stamps(tmp_path / "ray")
    (tmp_path / "ray" / "gray_colorized.png").unlink()
    del finished["gray_colorized.png"]
    (tmp_path / "ray" / "sub" / "wide_colorized.png").unlink()
    del finished["wide_colorized.png"]
    resumed = distributed.colorize_files_on_ray([photos], tmp_path / "ray", batch_size=2)
    assert sorted(p.name for p, _ in resumed.written) == ["gray.png", "wide.png"]
    assert sorted(p.name for p, _ in resumed.skipped) == ["colour.jpg", "deep.png"]
    assert [p.name for p, _ in resumed.failed] == ["broken.jpg"]
    stamps = _stamps(tmp_path / "ray")
    assert {name: stamps[name] for name in finished} == finished  # the finished outputs were not rewritten
    assert _digests(tmp_path / "ray") == _digests(tmp_path / "local")


@pytest.mark.slow  # the CLI on Ray; the library path on Ray is checked above in the fast suite
@pytest.mark.xdist_group("ray")
def test_predict_ray_prints_the_local_summary_and_exit_code(ray_instance, photos, tmp_path):
    args = ["predict", str(photos), "--batch-size", "2"]
    local = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "local")])
    on_ray = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "ray"), "--ray", "auto", "--compare"])
    assert local.exit_code == on_ray.exit_code == 1
    assert "Colorized 4 image(s), kept 0 existing, 1 failed." in on_ray.output
    assert "broken.jpg" in on_ray.output
    assert (tmp_path / "ray" / "sub" / "wide_compare.png").is_file()
    written = {name: digest for name, digest in _digests(tmp_path / "ray").items() if "_compare" not in name}
    assert written == _digests(tmp_path / "local")


def test_predict_ray_without_ray_is_a_one_line_error_naming_the_extra(photos, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    result = CliRunner().invoke(main, ["predict", str(photos), "-o", str(tmp_path / "out"), "--ray", "local"])
    assert "pip install 'colorize-keras[ray]'" in one_line_error(result)
    assert not (tmp_path / "out").exists()
