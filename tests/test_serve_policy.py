"""colorize.serve.policy: Host names, other web pages' POSTs, security headers, JSON errors, the pixel limit, uvicorn's limits."""

import pytest
from conftest import asgi_client, encoded_image, make_portrait_like, post_photo

pytest.importorskip("starlette")
pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def guarded(unet_path):
    """The app as `colorize serve` makes it on 127.0.0.1:8000."""
    from colorize import serve

    app = serve.create_app(unet_path, max_upload_mb=1.5, allowed_hosts=[*serve.LOOPBACK_HOSTS])
    with asgi_client(app) as client:
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


def test_cross_origin_posts_are_refused_unless_allowed(guarded, unet_path, monkeypatch):
    from colorize import serve

    photo = encoded_image(make_portrait_like(32))
    own = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Origin": "http://127.0.0.1:8000"})
    assert own.status_code == 200, own.text
    _no_model_calls(monkeypatch)
    for origin in (EVIL, "null", "http://127.0.0.1:9999"):
        response = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Origin": origin})
        assert response.status_code == 403 and "--allow-origin" in response.json()["error"], origin
    monkeypatch.undo()
    app = serve.create_app(unet_path, allow_origins=["http://localhost:3000"])
    with asgi_client(app) as client:
        allowed = client.post("/api/colorize", files={"image": ("p.png", photo)},
                              headers={"Origin": "http://localhost:3000"})  # fmt: skip
        other = client.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Origin": EVIL})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert other.status_code == 403


def test_a_rebinding_host_header_is_refused_on_loopback(guarded, monkeypatch):
    photo = encoded_image(make_portrait_like(32))
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert guarded.get("/api/health", headers={"Host": host}).status_code == 200, host
    _no_model_calls(monkeypatch)
    for path in ("/", "/api/health"):
        assert guarded.get(path, headers={"Host": "evil.example"}).status_code == 400
    response = guarded.post("/api/colorize", files={"image": ("p.png", photo)}, headers={"Host": "evil.example:8000"})
    assert response.status_code == 400


def test_a_pixel_bomb_is_refused_415_from_its_header(guarded, monkeypatch):
    from colorize import serve

    bomb = _png_header_only(12000, 12000)
    assert len(bomb) < 1000
    _no_model_calls(monkeypatch)
    response = post_photo(guarded, bomb, "bomb.png")
    assert response.status_code == 415 and "144 megapixels" in response.json()["error"]
    beyond = post_photo(guarded, _png_header_only(17000, 17000), "bomb.png")  # past Pillow's own refusal
    assert beyond.status_code == 415 and "more megapixels than Pillow decodes" in beyond.json()["error"]
    assert serve.pixel_limit(available=100_000_000) == 10_000_000  # sized to the memory (0.8 / 8 bytes)
    assert serve.pixel_limit(available=10**12) == serve.MAX_PIXELS
    assert guarded.get("/api/health").json()["max_megapixels"] <= serve.MAX_PIXELS / 1e6


def test_a_stalled_request_head_is_closed_and_connections_are_limited():
    import socket
    import threading

    import uvicorn
    from starlette.applications import Starlette

    from colorize import serve

    config = serve.server_config(Starlette(), header_timeout=0.5)
    assert config.limit_concurrency == serve.MAX_CONNECTIONS and config.timeout_keep_alive == 5
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
        post_photo(guarded, b"just text", "notes.txt"),
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
