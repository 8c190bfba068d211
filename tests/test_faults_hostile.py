"""Fault injection: issue 26's hostile-user findings ("safe to leave running"), one test per row.

Each test fails on the code before the fix. The server rows run through Starlette's
test client (and one real uvicorn server on a loopback port for the header timeout).
"""

import json
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image

from colorize.cli import main
from conftest import make_portrait_like
from test_faults import _one_line_error, _tiny_train_args


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished one-epoch run of a tiny U-Net (trained once for the module)."""
    root = tmp_path_factory.mktemp("run")
    images = root / "images"
    images.mkdir()
    for index in range(6):
        Image.fromarray(make_portrait_like(32, seed=index)).save(images / f"p{index}.png")
    run = root / "b"
    result = CliRunner().invoke(main, _tiny_train_args(images, run))
    assert result.exit_code == 0, result.output
    return run


def _snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# ----------------------------------------------------------------------------- rows 1, 2: --resume


def test_row1_resume_continues_the_folder_it_is_given(tiny_run, tmp_path):
    original = _snapshot(tiny_run)
    copy = tmp_path / "bcopy"
    shutil.copytree(tiny_run, copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert _snapshot(tiny_run) == original  # the original run is untouched
    assert len((copy / "history.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    assert json.loads((copy / "config.json").read_text())["output_dir"] == str(copy)
    moved = tmp_path / "moved"
    shutil.move(str(copy), moved)  # a moved run: its stored output_dir no longer exists
    result = CliRunner().invoke(main, ["train", "--resume", str(moved), "--epochs", "3"])
    assert result.exit_code == 0, result.output
    assert len((moved / "history.csv").read_text().strip().splitlines()) == 4


def test_row2_resume_refuses_a_config_model_other_than_the_weights(tiny_run, tmp_path):
    copy = tmp_path / "other"
    shutil.copytree(tiny_run, copy)
    settings = json.loads((copy / "config.json").read_text())
    settings["model"] = "unet_classification"
    (copy / "config.json").write_text(json.dumps(settings))
    before = _snapshot(copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    error = _one_line_error(result).strip().splitlines()[-1]
    assert "says model 'unet_classification'" in error and "another model ('unet')" in error, error
    assert "nothing was changed" in error and "Traceback" not in result.output
    assert _snapshot(copy) == before  # nothing touched

    settings["model"] = "unet"
    settings["model_options"]["base_filters"] = 8  # the same model, other weight shapes
    (copy / "config.json").write_text(json.dumps(settings))
    before = _snapshot(copy)
    result = CliRunner().invoke(main, ["train", "--resume", str(copy), "--epochs", "2"])
    error = _one_line_error(result).strip().splitlines()[-1]
    assert "says model 'unet' with options" in error and "nothing was changed" in error, error
    assert _snapshot(copy) == before  # nothing touched


# ----------------------------------------------------------------------------- rows 3, 17: config values


@pytest.mark.parametrize("key", ["augment", "mixed_precision", "jit", "cache_embeddings"])
@pytest.mark.parametrize("value", ["no", "false", 1])
def test_row3_yaml_booleans_are_type_checked(key, value):
    from colorize.config import TrainConfig

    with pytest.raises(ValueError, match=f"{key} must be true or false. Received: {key}={value!r}"):
        TrainConfig.from_dict({"data": "x", key: value})


def test_row3_a_quoted_no_in_yaml_is_a_one_line_error(image_folder, tmp_path):
    settings = tmp_path / "s.yaml"
    settings.write_text('augment: "no"\n')
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(tmp_path / "r")])
    assert "augment must be true or false" in _one_line_error(result)
    assert not (tmp_path / "r").exists()


def test_row17_seed_bound_says_zero():
    from colorize.config import TrainConfig

    assert TrainConfig(data="x", seed=0).seed == 0
    with pytest.raises(ValueError, match=r"seed must be at least 0\. Received: seed=-5"):
        TrainConfig(data="x", seed=-5)


# ----------------------------------------------------------------------------- rows 7, 16: loading models


def test_row7_a_zip_bomb_keras_file_is_refused_before_reading(tmp_path, monkeypatch):
    import zipfile

    import keras

    from colorize.saving import ModelLoadError, load_saved_model

    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", b" " * (17 * 2**20))  # inflates 1000 times
        archive.writestr("model.weights.h5", b"")
    assert bomb.stat().st_size < 100_000

    def never(*args, **kwargs):
        raise AssertionError("the archive was read")

    monkeypatch.setattr(keras.saving, "load_model", never)
    with pytest.raises(ModelLoadError, match="config.json would unpack to 18 MB"):
        load_saved_model(bomb)
    photo = tmp_path / "photos" / "p.png"
    photo.parent.mkdir()
    Image.fromarray(make_portrait_like(32)).save(photo)
    result = CliRunner().invoke(main, ["predict", str(photo), "--model", str(bomb)])
    assert "would unpack" in _one_line_error(result)


def test_row16_a_safe_mode_refusal_gives_the_whole_reason(tmp_path):
    import keras

    from colorize.saving import ModelLoadError, load_saved_model

    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")

    with pytest.raises(ModelLoadError) as caught:
        load_saved_model(tmp_path / "lambda.keras")

    message = str(caught.value)
    assert "\n" not in message and "safe_mode=False" in message
    assert message.rstrip().endswith("loading.") or message.rstrip().endswith("."), message
    assert "thus it is )" not in message


# ----------------------------------------------------------------------------- rows 4-6, 8-11, 15: the server

from test_serve import _encoded, _post, _test_client, model_path  # noqa: E402, F401 - model_path: a fixture

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def guarded(model_path):
    """The app as `colorize serve` makes it on 127.0.0.1:8000."""
    from colorize import serving

    app = serving.create_app(model_path, max_upload_mb=1.5, allowed_hosts=[*serving.LOOPBACK_HOSTS])
    with _test_client(app) as client:
        client.base_url = "http://127.0.0.1:8000"
        yield client


def _no_model_calls(monkeypatch):
    from colorize import inference

    def never(*args, **kwargs):
        raise AssertionError("the photo was colorized")

    monkeypatch.setattr(inference, "colorize_bytes", never)


def test_row4_cross_origin_posts_are_refused_unless_allowed(guarded, model_path, monkeypatch):
    from colorize import serving

    photo = _encoded(make_portrait_like(32))
    own = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Origin": "http://127.0.0.1:8000"})
    assert own.status_code == 200, own.text
    _no_model_calls(monkeypatch)
    for origin in (EVIL, "null", "http://127.0.0.1:9999"):
        response = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Origin": origin})
        assert response.status_code == 403 and "--allow-origin" in response.json()["error"], origin
    monkeypatch.undo()
    app = serving.create_app(model_path, allow_origins=["http://localhost:3000"])
    with _test_client(app) as client:
        allowed = client.post("/api/colorize", files={"image": ("p.png", photo)},
                              headers={"Origin": "http://localhost:3000"})  # fmt: skip
        other = client.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Origin": EVIL})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert other.status_code == 403


def test_row5_a_rebinding_host_header_is_refused_on_loopback(guarded, monkeypatch):
    photo = _encoded(make_portrait_like(32))
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert guarded.get("/api/health", headers={"Host": host}).status_code == 200, host
    _no_model_calls(monkeypatch)
    for path in ("/", "/api/health"):
        assert guarded.get(path, headers={"Host": "evil.example"}).status_code == 400
    response = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Host": "evil.example:8000"})
    assert response.status_code == 400


def test_row5_serve_passes_loopback_hosts_and_the_allowed_origins(model_path, monkeypatch):
    from colorize import serving

    seen = {}

    def create_app(model, **options):
        seen[options.get("allowed_hosts") and "loopback" or "any"] = options
        raise ValueError("stopped here")

    monkeypatch.setattr(serving, "create_app", create_app)
    runner = CliRunner()
    runner.invoke(main, ["serve", "--model", str(model_path), "--port", "0", "--allow-origin", "http://localhost:3000/"])
    runner.invoke(main, ["serve", "--model", str(model_path), "--port", "0", "--host", "0.0.0.0"])
    assert set(seen["loopback"]["allowed_hosts"]) >= {"127.0.0.1", "localhost"}
    assert seen["loopback"]["allow_origins"] == ["http://localhost:3000"]
    assert seen["any"]["allowed_hosts"] is None  # on a network address: the user chose who can reach it
    bad = runner.invoke(main, ["serve", "--model", str(model_path), "--allow-origin", "evil.example"])
    assert bad.exit_code == 2 and "--allow-origin" in bad.output


def _png_header_only(width, height):
    """A PNG whose header says width x height, with a few bytes of data: a pixel bomb."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 4096, 9))
            + chunk(b"IEND", b""))  # fmt: skip


def test_row6_a_pixel_bomb_is_refused_415_from_its_header(guarded, monkeypatch):
    from colorize import serving

    bomb = _png_header_only(17000, 17000)
    assert len(bomb) < 1000
    _no_model_calls(monkeypatch)
    response = _post(guarded, bomb, "bomb.png")
    assert response.status_code == 415 and "289 megapixels" in response.json()["error"]
    assert serving.pixel_limit(available=100_000_000) == 10_000_000  # sized to the memory (0.8 / 8 bytes)
    assert serving.pixel_limit(available=10**12) == serving.MAX_PIXELS
    assert guarded.get("/api/health").json()["max_megapixels"] <= serving.MAX_PIXELS / 1e6


def _multipart(data=b"GIF89a", boundary="xyz"):
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n\r\n'.encode()
            + data + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip


def _scope(body_length):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/api/colorize", "raw_path": b"/api/colorize", "query_string": b"", "root_path": "",
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
            "headers": [(b"host", b"127.0.0.1:8000"), (b"content-length", str(body_length).encode()),
                        (b"content-type", b"multipart/form-data; boundary=xyz")]}  # fmt: skip


async def _call(app, scope, receive):
    """Run one ASGI request; (status, JSON body or None)."""
    sent = []

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, (json.loads(body) if body.startswith(b"{") else None)


def test_row8_a_full_queue_and_too_many_bodies_are_refused_before_reading(model_path):
    import asyncio

    from colorize import serving

    async def scenario(app, stalled_count, length):
        never = asyncio.Event()

        async def stalled():  # a client that is sending its body slowly
            await never.wait()

        async def unread():
            raise AssertionError("the body was read")

        tasks = [asyncio.ensure_future(_call(app, _scope(length), stalled)) for _ in range(stalled_count)]
        await asyncio.sleep(0)
        try:
            return await _call(app, _scope(length), unread)
        finally:
            for task in tasks:
                task.cancel()

    queue_of_two = serving.create_app(model_path, max_waiting=2)
    status, body = asyncio.run(scenario(queue_of_two, 2, 1000))
    assert status == 503 and "2 photos are already waiting" in body["error"]
    bodies = serving.create_app(model_path, max_upload_mb=1)  # at most 4 x 1 MB of bodies held
    status, body = asyncio.run(scenario(bodies, serving.HELD_UPLOADS, 900_000))
    assert status == 503 and "uploads are being received" in body["error"]


def test_row9_a_photo_whose_client_has_gone_is_not_colorized(model_path, monkeypatch):
    import asyncio
    import threading

    from colorize import inference, serving

    release, calls = threading.Event(), []

    def slow(data, *args, **kwargs):
        calls.append(data)
        release.wait(60)
        return b"png"

    monkeypatch.setattr(inference, "colorize_bytes", slow)
    app = serving.create_app(model_path)
    first_body, gone_body = _multipart(_encoded(make_portrait_like(32))), _multipart(_encoded(make_portrait_like(48)))

    def client(body, then_disconnect):
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if messages:
                return messages.pop(0)
            if then_disconnect:
                return {"type": "http.disconnect"}
            await asyncio.Event().wait()  # connected, waiting for the answer

        return receive

    async def scenario():
        first = asyncio.ensure_future(_call(app, _scope(len(first_body)), client(first_body, False)))
        while not calls:  # the first photo is in the model
            await asyncio.sleep(0.01)
        gone = await _call(app, _scope(len(gone_body)), client(gone_body, True))
        release.set()
        return await first, gone

    (first_status, _), (gone_status, _) = asyncio.run(scenario())
    assert first_status == 200 and gone_status == 499
    assert len(calls) == 1  # the photo of the client that had gone never reached the model


def test_row10_a_stalled_request_head_is_closed_and_connections_are_limited():
    import socket
    import threading

    import uvicorn
    from starlette.applications import Starlette

    from colorize import serving

    config = serving.server_config(Starlette(), header_timeout=0.5)
    assert config.limit_concurrency == serving.MAX_CONNECTIONS and config.timeout_keep_alive == 5
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=60) as connection:
            connection.sendall(b"POST /api/colorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")  # and stalls
            assert connection.recv(1024) == b""  # closed by the server (the 60 s timeout would raise)
    finally:
        server.should_exit = True
        thread.join(30)


def test_row11_every_response_carries_the_security_headers(guarded):
    responses = [
        guarded.get("/"), guarded.get("/api/health"), guarded.get("/static/app.js"), guarded.get("/nothing"),
        guarded.get("/api/colorize"), guarded.get("/", headers={"Host": "evil.example"}),
        guarded.post("/api/colorize", files={"image": ("p.png", b"x")}, headers={"Origin": EVIL}),
        _post(guarded, b"just text", "notes.txt"),
    ]  # fmt: skip
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, response.url


def test_row15_404_and_405_are_json_errors(guarded):
    for method, path, status in [("GET", "/api/colorize", 405), ("OPTIONS", "/api/colorize", 405),
                                 ("GET", "/nonexistent", 404), ("GET", "/static/missing.js", 404)]:  # fmt: skip
        response = guarded.request(method, path)
        assert response.status_code == status, (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"], (method, path)
    assert "use POST" in guarded.get("/api/colorize").json()["error"]


# ----------------------------------------------------------------------------- row 12: a killed prepare


def _children(pid):
    """Live (not zombie) processes whose parent is ``pid``."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid):
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="reads /proc (Linux)")
def test_row12_prepare_workers_end_when_prepare_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from test_faults import REPO, _noise_folder

    source = _noise_folder(tmp_path / "many", 400, size=64)
    command = [sys.executable, "-m", "colorize", "prepare", str(source), "-o", str(tmp_path / "ds"), "--size", "32",
               "-j", "2", "--no-progress"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            children = _children(process.pid)
            if len(children) >= 3:  # two workers and the resource tracker
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL and len(children) >= 3
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    orphans = [pid for pid in children if _alive(pid)]
    for pid in orphans:  # never left running by the test itself
        os.kill(pid, signal.SIGKILL)
    assert orphans == []


# ----------------------------------------------------------------------------- row 13: --image-size vs memory


def test_row13_an_image_size_beyond_memory_is_one_line_before_any_work(image_folder, tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(main, _tiny_train_args(image_folder, run, "--image-size", "100000"))
    error = _one_line_error(result).strip().splitlines()[-1]
    assert "--image-size 100000 with --batch-size 2 needs at least" in error and "GB is available" in error
    assert not run.exists()
    settings = tmp_path / "s.yaml"
    settings.write_text("image_size: 100000\n")
    result = CliRunner().invoke(main, ["train", str(image_folder), "--config", str(settings), "-o", str(run)])
    assert "--image-size 100000" in _one_line_error(result)


# ----------------------------------------------------------------------------- row 14: read-only / full output


def _failing_write(errno_code, filename=None):
    import errno
    import os

    def fail(*args, **kwargs):
        raise OSError(errno_code, os.strerror(errno_code), *([str(filename)] if filename else []))

    return fail


def test_row14_a_read_only_or_full_output_names_the_flag_and_folder(model_path, image_folder, tmp_path, monkeypatch):
    import errno

    import keras

    from colorize import evaluation, rundir

    out = tmp_path / "ro"
    monkeypatch.setattr(keras.Model, "save", _failing_write(errno.EROFS, out / ".e.tmp-30075.keras"))
    result = CliRunner().invoke(main, ["export", str(model_path), "-o", str(out / "e.keras")])
    error = _one_line_error(result)
    assert f"cannot write to {out} (a read-only file system); pass -o" in error and ".tmp" not in error
    monkeypatch.undo()

    monkeypatch.setattr(rundir, "write_config", _failing_write(errno.ENOSPC))
    run = tmp_path / "run"
    result = CliRunner().invoke(main, _tiny_train_args(image_folder, run))
    assert f"cannot write to {run} (no space left on the device); pass -o" in _one_line_error(result)

    monkeypatch.setattr(evaluation, "write_report", _failing_write(errno.EROFS, tmp_path / "report" / "metrics.json"))
    result = CliRunner().invoke(main, ["evaluate", "--baselines", str(image_folder), "-o", str(tmp_path / "report"),
                                       "--image-size", "32", "--limit", "2"])  # fmt: skip
    assert f"cannot write to {tmp_path / 'report'} (a read-only file system); pass -o" in _one_line_error(result)


# ----------------------------------------------------------------------------- row 18: predict says what it skipped


def test_row18_predict_says_why_it_skipped_a_compare_or_a_folder_output(model_path, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_portrait_like(32)).save(photo)
    arguments = ["predict", str(photo), "--model", str(model_path)]
    assert CliRunner().invoke(main, arguments).exit_code == 0
    again = CliRunner().invoke(main, [*arguments, "--compare"])
    assert again.exit_code == 0, again.output
    assert "No side-by-side image for the kept output(s)" in again.output and "--overwrite" in again.output

    folder_photo = tmp_path / "other.png"
    Image.fromarray(make_portrait_like(32)).save(folder_photo)
    (tmp_path / "other_colorized.png").mkdir()  # the output's name is taken by a folder
    result = CliRunner().invoke(main, ["predict", str(folder_photo), "--model", str(model_path)])
    assert result.exit_code == 1
    assert "is a folder, not a file" in result.output and "Kept" not in result.output
