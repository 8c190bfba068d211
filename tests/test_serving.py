"""`colorize serve`: the API through Starlette's test client, and the page in headless Chromium."""

import io
import json
import tempfile
import threading
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import make_portrait_like
from PIL import Image

from colorize.cli import main

pytest.importorskip("starlette")
pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def model_path(unet_path):
    """The page serves a tiny U-Net (conftest's ``unet_path``)."""
    return unet_path


def _test_client(app):
    with warnings.catch_warnings():  # newer Starlette prefers httpx2 over httpx; both work
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient(app)


@pytest.fixture(scope="module")
def client(model_path):
    from colorize import serving

    with _test_client(serving.create_app(model_path, max_upload_mb=1.5)) as test_client:
        yield test_client


def _encoded(array, image_format="PNG"):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=image_format)
    return buffer.getvalue()


def _post(client, data, name="photo.png", **fields):
    return client.post("/api/colorize", files={"image": (name, data, "application/octet-stream")}, data=fields)


def _photos():
    colour = make_portrait_like(64)[:40]  # 40 x 64, not square
    rgba = np.dstack([make_portrait_like(48, seed=1), np.linspace(0, 255, 48 * 48).reshape(48, 48).astype(np.uint8)])
    gray16 = (np.linspace(0, 65535, 30 * 50).reshape(30, 50)).astype(np.uint16)
    return {
        "colour.jpg": (_encoded(colour, "JPEG"), (64, 40), "RGB", 8),
        "alpha.png": (_encoded(rgba), (48, 48), "RGBA", 8),
        "gray16.png": (_encoded(gray16), (50, 30), "RGB", 16),  # PIL shows 16-bit RGB as RGB
    }


@pytest.mark.parametrize("render_size", [None, 64])
def test_pngs_are_the_ones_colorize_predict_writes(client, model_path, tmp_path, render_size):
    photos = _photos()
    for name, (data, _, _, _) in photos.items():
        (tmp_path / name).write_bytes(data)
    extra = [] if render_size is None else ["--render-size", str(render_size)]
    result = CliRunner().invoke(main, ["predict", str(tmp_path), "--model", str(model_path), "--batch-size", "1", *extra])
    assert result.exit_code == 0, result.output
    fields = {} if render_size is None else {"render_size": str(render_size)}

    for name, (data, size, mode, bit_depth) in photos.items():
        response = _post(client, data, name, **fields)

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-disposition"] == f'inline; filename="{name.split(".")[0]}_colorized.png"'
        assert response.content == (tmp_path / (name.split(".")[0] + "_colorized.png")).read_bytes(), name
        served = Image.open(io.BytesIO(response.content))
        assert (served.size, served.mode, response.content[24]) == (size, mode, bit_depth), name  # [24]: IHDR depth


def test_render_size_changes_the_colours(client):
    data = _encoded(make_portrait_like(64))
    assert _post(client, data).content != _post(client, data, render_size="96").content


@pytest.mark.parametrize(
    ("request_kwargs", "status", "words"),
    [
        ({"files": {"image": ("notes.txt", b"just some text\n", "text/plain")}}, 415, "notes.txt: not an image"),
        ({"files": {"image": ("empty.jpg", b"", "image/jpeg")}}, 400, "empty.jpg is empty"),
        ({"content": b""}, 400, "multipart/form-data"),
        ({"files": {"photo": ("a.png", b"x", "image/png")}}, 400, "field 'image'"),
        ({"data": {"image": "not a file"}}, 400, "field 'image'"),
        ({"files": {"image": ("a.png", b"x", "image/png")}, "data": {"render_size": "huge"}}, 422, "render_size"),
        ({"files": {"image": ("a.png", b"x", "image/png")}, "data": {"render_size": "4000"}}, 422, "render_size"),
    ],
    ids=["text-file", "empty-file", "empty-body", "other-field", "field-not-a-file", "render-size-word", "render-size-big"],
)
def test_bad_requests_get_a_json_4xx_and_the_server_keeps_serving(client, request_kwargs, status, words):
    response = client.post("/api/colorize", **request_kwargs)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["error"]
    assert _post(client, _encoded(make_portrait_like(32))).status_code == 200


def test_an_upload_over_the_limit_gets_413(client):
    too_big = b"\xff" * 1_600_000  # the client's limit is 1.5 MB
    declared = _post(client, too_big, "big.jpg")

    def chunks():  # no Content-Length: counted as it arrives
        boundary = b"--xyz"
        yield boundary + b'\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n\r\n'
        for _ in range(16):
            yield b"\xff" * 100_000
        yield b"\r\n" + boundary + b"--\r\n"

    streamed = client.post(
        "/api/colorize", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert "1.5 MB" in response.json()["error"]
    assert client.get("/api/health").status_code == 200


def test_uploads_are_held_in_memory_never_spooled_to_disk(client, monkeypatch):
    def no_disk(*args, **kwargs):
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_disk)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_disk)
    noise = np.random.default_rng(0).integers(0, 256, (620, 620, 3), dtype=np.uint8)
    data = _encoded(noise)  # about 1.15 MB: over Starlette's 1 MB spooling threshold
    assert len(data) > 1024 * 1024

    response = _post(client, data)

    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).size == (620, 620)


def test_concurrent_uploads_all_succeed_one_model_call_at_a_time(client, monkeypatch):
    from colorize import infer

    photos = [_encoded(make_portrait_like(48 + 16 * index, seed=index)) for index in range(4)]
    expected = [_post(client, data).content for data in photos]
    running, most, lock = [0], [0], threading.Lock()
    original = infer.colorize_bytes

    def counted(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(infer, "colorize_bytes", counted)
    responses = [None] * len(photos)

    def send(index):
        responses[index] = _post(client, photos[index], f"p{index}.png")

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(photos))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [r.status_code for r in responses] == [200] * len(photos)
    assert [r.content for r in responses] == expected
    assert most[0] == 1


def test_more_waiting_photos_than_the_queue_holds_get_503(model_path, monkeypatch):
    from colorize import infer, serving

    release, started = threading.Event(), threading.Event()
    original = infer.colorize_bytes

    def slow(*args, **kwargs):
        started.set()
        release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr(infer, "colorize_bytes", slow)
    data = _encoded(make_portrait_like(32))
    with _test_client(serving.create_app(model_path, max_waiting=1)) as one_slot:
        first = []
        thread = threading.Thread(target=lambda: first.append(_post(one_slot, data)))
        thread.start()
        assert started.wait(60)
        second = _post(one_slot, data)
        release.set()
        thread.join(60)
        third = _post(one_slot, data)

    assert second.status_code == 503 and "busy" in second.json()["error"]
    assert first[0].status_code == 200 and third.status_code == 200


def test_health_names_the_model_and_version(client):
    import colorize

    health = client.get("/api/health").json()

    assert health["model_file"] == "tiny.keras"
    assert health["version"] == colorize.__version__
    assert health["max_upload_mb"] == 1.5


def test_the_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'type="file"' in page.text and "multiple" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert asset in page.text
        response = client.get(asset)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text  # works offline
    assert "http://" not in page.text and "https://" not in page.text
    assert client.get("/static/missing.js").status_code == 404


def test_cli_serve_help_and_a_bad_model_is_a_one_line_error(tmp_path):
    runner = CliRunner()
    help_text = runner.invoke(main, ["serve", "--help"]).output
    assert "--port" in help_text and "/api/colorize" in help_text

    result = runner.invoke(main, ["serve", "--model", str(tmp_path / "missing.keras"), "--port", "0"])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert "missing.keras not found" in result.output


def test_cli_serve_on_a_busy_port_is_a_one_line_error(model_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--model", str(model_path), "--port", str(port)])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.output


def test_a_bad_upload_limit_is_refused(model_path):
    from colorize import serving

    with pytest.raises(ValueError, match="max_upload_mb"):
        serving.create_app(model_path, max_upload_mb=0)


# ------------------------------------------------------------------ the page in a browser

# Set on the page before uploading: every moment a card that is not done shows its download link.
_WATCH_DOWNLOADS = """
window.downloadShownEarly = [];
new MutationObserver(() => {
  for (const card of document.querySelectorAll('.card')) {
    const link = card.querySelector('a.download');
    if (!card.classList.contains('done') && getComputedStyle(link).display !== 'none')
      window.downloadShownEarly.push(card.className + ' ' + card.querySelector('.status').textContent);
  }
}).observe(document.getElementById('results'), {subtree: true, childList: true, attributes: true});
"""


@pytest.mark.slow
def test_the_page_colorizes_the_astronaut_in_headless_chromium(tmp_path, monkeypatch):
    from browser import headless_chromium, running_app
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    from skimage import data

    from colorize import serving

    photo = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    with running_app(serving.create_app("default")) as url, headless_chromium(monkeypatch) as driver:
        driver.get(url)
        assert "not the historical colours" in driver.find_element(By.ID, "expect").text
        driver.execute_script(_WATCH_DOWNLOADS)
        driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(f"{photo}\n{notes}")
        WebDriverWait(driver, 120).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".card.done, .card.failed")) == 2)
        assert driver.execute_script("return window.downloadShownEarly") == []  # none while waiting or working
        done = driver.find_element(By.CSS_SELECTOR, ".card.done")
        failed = driver.find_element(By.CSS_SELECTOR, ".card.failed")
        assert "notes.txt: not an image" in failed.find_element(By.CSS_SELECTOR, ".error").text
        assert not failed.find_element(By.CSS_SELECTOR, "a.download").is_displayed()
        download = done.find_element(By.CSS_SELECTOR, "a.download")
        assert download.is_displayed() and download.get_attribute("download") == "astronaut_colorized.png"
        size = driver.execute_script(
            "const img = arguments[0].querySelector('img.after'); return [img.naturalWidth, img.naturalHeight];", done
        )
        assert size == [512, 512]
        assert done.location["y"] == failed.location["y"]  # side by side ...
        assert failed.size["height"] < done.size["height"] / 2  # ... and the failed card stays compact

        slider = done.find_element(By.CSS_SELECTOR, ".slider")
        slider.send_keys(Keys.ARROW_RIGHT)
        assert float(slider.get_attribute("value")) == 55  # a few percent per key, from 50
        slider.send_keys(Keys.END)
        assert float(slider.get_attribute("value")) == 100
        slider.send_keys(Keys.HOME, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
        assert float(slider.get_attribute("value")) == 10
        assert driver.save_screenshot(str(tmp_path / "page.png"))
    assert Image.open(tmp_path / "page.png").size[0] > 0


def test_colour_strength_is_checked_and_offered_only_where_the_model_has_it(client):
    photo = _encoded(np.full((40, 40), 120, np.uint8))
    response = _post(client, photo, strength="2")
    assert response.status_code == 422 and "strength must be a number from 0 to 1" in response.json()["error"]
    response = _post(client, photo, strength="0.3")  # the tiny model has no rebalancing prior
    assert response.status_code == 422 and "no colour-strength control" in response.json()["error"]
    assert client.get("/api/health").json()["strengths"] == {}


def test_the_bundled_model_offers_its_presets_and_each_strength_gives_other_colours():
    from colorize import registry, serving

    with _test_client(serving.create_app("default")) as bundled:
        health = bundled.get("/api/health").json()
        assert health["strengths"] == {name: preset.strength for name, preset in registry.PRESETS.items()}
        assert health["default_strength"] == registry.PRESETS["default"].strength
        from skimage import data

        photo = _encoded(data.camera()[::8, ::8])
        calm, strong = (_post(bundled, photo, strength=value) for value in ("0", "1"))
        assert calm.status_code == strong.status_code == 200
        assert calm.content != strong.content


@pytest.fixture(scope="module")
def guarded(model_path):
    """The app as `colorize serve` makes it on 127.0.0.1:8000."""
    from colorize import serving

    app = serving.create_app(model_path, max_upload_mb=1.5, allowed_hosts=[*serving.LOOPBACK_HOSTS])
    with _test_client(app) as client:
        client.base_url = "http://127.0.0.1:8000"
        yield client


EVIL = "http://evil.example"


def _no_model_calls(monkeypatch):
    from colorize import infer

    def never(*args, **kwargs):
        raise AssertionError("the photo was colorized")

    monkeypatch.setattr(infer, "colorize_bytes", never)


def _png_header_only(width, height):
    """A PNG whose header says width x height, with a few bytes of data: a pixel bomb."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 4096, 9))
            + chunk(b"IEND", b""))  # fmt: skip


async def _call(app, scope, receive):
    """Run one ASGI request; (status, JSON body or None)."""
    sent = []

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, (json.loads(body) if body.startswith(b"{") else None)


def _scope(body_length):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/api/colorize", "raw_path": b"/api/colorize", "query_string": b"", "root_path": "",
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
            "headers": [(b"host", b"127.0.0.1:8000"), (b"content-length", str(body_length).encode()),
                        (b"content-type", b"multipart/form-data; boundary=xyz")]}  # fmt: skip


def _multipart(data=b"GIF89a", boundary="xyz"):
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n\r\n'.encode()
            + data + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip


def test_cross_origin_posts_are_refused_unless_allowed(guarded, model_path, monkeypatch):
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


def test_a_rebinding_host_header_is_refused_on_loopback(guarded, monkeypatch):
    photo = _encoded(make_portrait_like(32))
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert guarded.get("/api/health", headers={"Host": host}).status_code == 200, host
    _no_model_calls(monkeypatch)
    for path in ("/", "/api/health"):
        assert guarded.get(path, headers={"Host": "evil.example"}).status_code == 400
    response = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Host": "evil.example:8000"})
    assert response.status_code == 400


def test_serve_passes_loopback_hosts_and_the_allowed_origins(model_path, monkeypatch):
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


def test_a_pixel_bomb_is_refused_415_from_its_header(guarded, monkeypatch):
    from colorize import serving

    bomb = _png_header_only(12000, 12000)
    assert len(bomb) < 1000
    _no_model_calls(monkeypatch)
    response = _post(guarded, bomb, "bomb.png")
    assert response.status_code == 415 and "144 megapixels" in response.json()["error"]
    beyond = _post(guarded, _png_header_only(17000, 17000), "bomb.png")  # past Pillow's own refusal
    assert beyond.status_code == 415 and "more megapixels than Pillow decodes" in beyond.json()["error"]
    assert serving.pixel_limit(available=100_000_000) == 10_000_000  # sized to the memory (0.8 / 8 bytes)
    assert serving.pixel_limit(available=10**12) == serving.MAX_PIXELS
    assert guarded.get("/api/health").json()["max_megapixels"] <= serving.MAX_PIXELS / 1e6


def test_a_full_queue_and_too_many_bodies_are_refused_before_reading(model_path):
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


def test_a_photo_whose_client_has_gone_is_not_colorized(model_path, monkeypatch):
    import asyncio
    import threading

    from colorize import infer, serving

    release, calls = threading.Event(), []

    def slow(data, *args, **kwargs):
        calls.append(data)
        release.wait(60)
        return b"png"

    monkeypatch.setattr(infer, "colorize_bytes", slow)
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


def test_a_stalled_request_head_is_closed_and_connections_are_limited():
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


def test_every_response_carries_the_security_headers(guarded):
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


def test_404_and_405_are_json_errors(guarded):
    for method, path, status in [("GET", "/api/colorize", 405), ("OPTIONS", "/api/colorize", 405),
                                 ("GET", "/nonexistent", 404), ("GET", "/static/missing.js", 404)]:  # fmt: skip
        response = guarded.request(method, path)
        assert response.status_code == status, (method, path)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"], (method, path)
    assert "use POST" in guarded.get("/api/colorize").json()["error"]
