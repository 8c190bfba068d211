"""colorize.serve.uploads: the upload limit, bodies held in memory, admission before reading, a client that has gone."""

import io
import json
import tempfile

import numpy as np
import pytest
from conftest import encoded_image, make_portrait_like, post_photo
from PIL import Image

pytest.importorskip("starlette")
pytest.importorskip("httpx")


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


def test_an_upload_over_the_limit_gets_413(client):
    too_big = b"\xff" * 1_600_000  # the client's limit is 1.5 MB
    declared = post_photo(client, too_big, "big.jpg")

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
    data = encoded_image(noise)  # about 1.15 MB: over Starlette's 1 MB spooling threshold
    assert len(data) > 1024 * 1024

    response = post_photo(client, data)

    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).size == (620, 620)


def test_a_full_queue_and_too_many_bodies_are_refused_before_reading(unet_path):
    import asyncio

    from colorize import serve

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

    queue_of_two = serve.create_app(unet_path, max_waiting=2)
    status, body = asyncio.run(scenario(queue_of_two, 2, 1000))
    assert status == 503 and "2 photos are already waiting" in body["error"]
    bodies = serve.create_app(unet_path, max_upload_mb=1)  # at most 4 x 1 MB of bodies held
    status, body = asyncio.run(scenario(bodies, serve.HELD_UPLOADS, 900_000))
    assert status == 503 and "uploads are being received" in body["error"]


def test_a_photo_whose_client_has_gone_is_not_colorized(unet_path, monkeypatch):
    import asyncio
    import threading

    from colorize import infer, serve

    release, calls = threading.Event(), []

    def slow(data, *args, **kwargs):
        calls.append(data)
        release.wait(60)
        return b"png"

    monkeypatch.setattr(infer, "colorize_bytes", slow)
    app = serve.create_app(unet_path)
    first_body = _multipart(encoded_image(make_portrait_like(32)))
    gone_body = _multipart(encoded_image(make_portrait_like(48)))

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
