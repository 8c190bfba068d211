"""A local web page and HTTP API around :func:`colorize.infer.colorize_bytes`.

``create_app(model)`` loads the model once and returns a Starlette (ASGI) application:

* ``GET /``: one page (HTML, CSS and JavaScript from ``colorize/assets/web``, no build
  step, nothing from the internet) to drop or pick photos and download the results.
* ``POST /api/colorize``: multipart field ``image`` (optional fields or query parameters
  ``render_size`` and ``strength``, the colour strength 0..1) -> ``image/png``, the same bytes ``colorize predict`` writes for
  that file. Errors are JSON ``{"error": "..."}`` with a 4xx status (413: too large,
  415: not an image, 422: a bad render size, 503: too many photos waiting).
* ``GET /api/health``: the model and the colorize version.

Uploads are held in memory, never written to disk; one worker thread runs the model,
so photos are colorized one at a time in the order they arrived. A full queue is
refused before a body is read, the bodies held at once are bounded, a photo of more
pixels than memory allows is refused from its header (415), and a photo whose client
has gone is skipped. POSTs from other origins (web pages the user visits) get 403,
``allowed_hosts`` restricts the Host header (DNS rebinding), and every response carries
``X-Content-Type-Options``, ``Content-Security-Policy`` and ``frame-ancestors``.
:func:`server_config` gives uvicorn's settings: a header timeout and a connection limit.

Example:
    >>> import uvicorn
    >>> uvicorn.run(create_app("default"), host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from colorize import __version__, errors, infer, saving
from colorize.errors import ColorizeError
from colorize.infer import runtime
from colorize.io.decode import header_size
from colorize.registry import PRESETS

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 40.0  # a 40 MB upload is a very large scan; photos are a few MB
MAX_WAITING = 32  # photos queued for the model at once; more get 503 (the page sends one at a time)
RENDER_SIZES = (256, 384, 512, 768, 1024)  # what the page offers; the API takes any in RENDER_SIZE_RANGE
RENDER_SIZE_RANGE = (32, 2048)
MAX_PIXELS = 64_000_000  # a photo's pixels at most (8000 x 8000), fewer where memory is short
FULL_SIZE_BYTES_PER_PIXEL = 8  # a served photo at full size: decoded, coloured, encoded (measured ~6)
HELD_UPLOADS = 4  # request bodies held in memory at once: at most this many times the upload limit
HEADER_TIMEOUT_S = 10  # a connection must send a request's headers within this
MAX_CONNECTIONS = 64  # uvicorn's limit_concurrency: more get 503
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class _UploadTooLarge(Exception):
    pass


def web_root() -> Path:
    """The folder of the page's files (``colorize/assets/web``)."""
    return Path(str(resources.files("colorize") / "assets" / "web"))


def create_app(
    model: str | os.PathLike = "default",
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    max_waiting: int = MAX_WAITING,
    precision: str = "auto",
    allowed_hosts: list[str] | None = None,
    allow_origins: list[str] = (),
    max_pixels: int | None = None,
) -> Starlette:
    """The web application, with the model loaded.

    Args:
        model: "default" (or a preset: ``default.onnx`` with ONNX Runtime), an ``.onnx`` or ``.keras`` file or a training run directory.
        max_upload_mb: the largest request body accepted, in megabytes (10^6 bytes).
        max_waiting: how many photos may wait for (or be in) the model; more get 503.
        precision: "auto", "float32" or "bfloat16", as `colorize predict --precision`
            (the same default, so the API returns the bytes predict writes).
        allowed_hosts: the Host header values accepted (Starlette's ``TrustedHostMiddleware``;
            None: any); `colorize serve` passes :data:`LOOPBACK_HOSTS` when bound to loopback.
        allow_origins: web origins (``http://host:port``) allowed to POST, besides the
            page's own; others get 403.
        max_pixels: the most pixels a photo may have (None: :func:`pixel_limit`); more get 415.

    Returns:
        A Starlette application; serve it with ``uvicorn.run(app, host=..., port=...)``
        or test it with ``starlette.testclient.TestClient(app)``.

    Raises:
        colorize.saving.ModelLoadError: the model cannot be loaded.
        ValueError: ``max_upload_mb`` or ``max_waiting`` is not positive.
    """
    if not max_upload_mb > 0:
        raise ValueError(f"max_upload_mb must be positive; Received: max_upload_mb={max_upload_mb!r}")
    if max_waiting < 1:
        raise ValueError(f"max_waiting must be at least 1; Received: max_waiting={max_waiting!r}")
    path = saving.resolve_model_path(model, onnx=True)
    runner = runtime.load_runner(model, precision)
    max_bytes = int(max_upload_mb * 1_000_000)
    max_pixels = pixel_limit() if max_pixels is None else int(max_pixels)
    health = {
        "status": "ok",
        "model": str(model),
        "model_file": path.name,
        "version": __version__,
        "fixed_size": runner.fixed_size,
        "max_upload_mb": max_upload_mb,
        "max_megapixels": round(max_pixels / 1e6, 1),
        "render_sizes": list(RENDER_SIZES),
        "default_render_size": runner.default_render_size,
        # Colour strengths the page offers (the bundled model's presets), when the model has the control.
        "strengths": ({name: preset.strength for name, preset in PRESETS.items()}
                      if runner.decoding is not None and runner.decoding.log_prior is not None else {}),
        "default_strength": None if runner.decoding is None else runner.decoding.strength,
    }
    # One worker thread: photos go through the model one at a time, in arrival order.
    worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-model")
    waiting = _Counter(max_waiting)
    held = _Counter(HELD_UPLOADS * max_bytes)  # bytes of request bodies in memory

    async def page(request: Request) -> Response:
        return FileResponse(web_root() / "index.html", headers={"Cache-Control": "no-cache"})

    async def health_endpoint(request: Request) -> Response:
        return JSONResponse(health)

    async def colorize_endpoint(request: Request) -> Response:
        # Admitted before the body is read: a full queue or too many bodies in memory cost nothing.
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() and int(declared) <= max_bytes else max_bytes
        if not waiting.enter():
            return _error(503, f"busy: {max_waiting} photos are already waiting; try again in a moment")
        if not held.enter(size):
            waiting.leave()
            return _error(503, "busy: too many uploads are being received; try again in a moment")
        try:
            return await _colorize(request)
        finally:
            held.leave(size)
            waiting.leave()

    async def _colorize(request: Request) -> Response:
        try:
            form = await _read_form(request, max_bytes)
        except _UploadTooLarge:
            return _error(413, f"the upload is larger than the limit of {max_upload_mb:g} MB")
        except (MultiPartException, KeyError, ValueError) as error:
            return _error(400, f"expected a multipart/form-data upload with a file field 'image' ({error})")
        except ClientDisconnect:
            return _error(400, "the upload was interrupted")
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            return _error(400, "no file in the field 'image'; send it as: curl -F image=@photo.jpg URL")
        name = os.path.basename(upload.filename or "upload") or "upload"
        data = await upload.read()
        if not data:
            return _error(400, f"{name} is empty")
        try:
            render_size = _render_size(form.get("render_size") or request.query_params.get("render_size"))
            chosen = runner.with_strength(_strength(form.get("strength") or request.query_params.get("strength")))
        except ValueError as error:
            return _error(422, str(error))
        width, height = header_size(data)
        if width < 0:
            return _error(415, f"{name} has more megapixels than Pillow decodes (2 x PIL.Image.MAX_IMAGE_PIXELS); "
                               f"this server takes at most {max_pixels / 1e6:.0f}")  # fmt: skip
        if width * height > max_pixels:
            return _error(415, f"{name} has {width * height / 1e6:.0f} megapixels; this server takes at most "
                               f"{max_pixels / 1e6:.0f} (colorize predict takes larger photos)")  # fmt: skip
        job = worker.submit(infer.colorize_bytes, data, chosen, render_size, name)
        del form, upload, data
        if not await _finished_unless_gone(request, job):
            log.info("%s: the client has gone; not colorized", name)
            return Response(status_code=499)
        try:
            png = job.result()
        except ColorizeError as error:
            return _error(415, errors.one_line(error))
        except MemoryError:
            return _error(413, f"{name} is too large to colorize in this machine's memory")
        except Exception as error:  # noqa: BLE001 - a failed photo must not stop the server
            log.error("colorizing %s failed", name, exc_info=error)
            return _error(500, f"colorizing {name} failed: {errors.one_line(error)}")
        stem = Path(name).stem or "upload"
        return Response(
            png,
            media_type="image/png",
            headers={"Content-Disposition": f'inline; filename="{_header_safe(stem)}_colorized.png"'},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        worker.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/", page),
        Route("/api/health", health_endpoint),
        Route("/api/colorize", colorize_endpoint, methods=["POST"]),
        Mount("/static", StaticFiles(directory=web_root()), name="static"),
    ]
    return guarded_app(routes, allowed_hosts, allow_origins, lifespan=lifespan)


def guarded_app(routes: list, allowed_hosts=None, allow_origins=(), lifespan=None) -> Starlette:
    """A Starlette app of ``routes`` behind the server's policy (the page's and the study's).

    Every response, refusals included, gets the security headers; only ``allowed_hosts``
    may be named in the Host header (None: any, for a server bound beyond loopback);
    POSTs from other web pages than the app's own and ``allow_origins`` are refused (403);
    HTTP errors (404, 405) are JSON.
    """
    allow_origins = list(allow_origins or ())
    middleware = [  # outermost first: every response, refusals included, gets the security headers
        Middleware(_SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts) if allowed_hosts else ["*"]),
        *([Middleware(CORSMiddleware, allow_origins=allow_origins, allow_methods=["GET", "POST"])]
          if allow_origins else []),  # fmt: skip
        Middleware(_SameOriginPosts, allow_origins=allow_origins),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={HTTPException: _http_error})  # fmt: skip


def pixel_limit(available: int | None = None) -> int:
    """The most pixels a served photo may have: :data:`MAX_PIXELS`, fewer where the memory
    available (``runtime``'s measure, with the same 0.8 margin as its render-size check) is short."""
    available = runtime.available_memory() if available is None else available
    if available is None:
        return MAX_PIXELS
    return max(1_000_000, min(MAX_PIXELS, int(0.8 * available / FULL_SIZE_BYTES_PER_PIXEL)))


def server_config(app, header_timeout: float = HEADER_TIMEOUT_S, max_connections: int = MAX_CONNECTIONS):
    """uvicorn's settings for :func:`create_app`'s application (pass ``sockets=`` to ``Server.run``).

    A connection that has not sent a request's headers within ``header_timeout`` seconds
    is closed (uvicorn's keep-alive timer, also run before each request); idle
    keep-alive connections close after 5 s; beyond ``max_connections`` connections or
    requests at once, uvicorn answers 503 (``limit_concurrency``); a request head over
    16 KB is refused (h11's limit).
    """
    import h11
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        """uvicorn's h11 protocol, its keep-alive timer also running until a request's headers are in."""

        def connection_made(self, transport):
            super().connection_made(transport)
            self._header_deadline()

        def on_response_complete(self):
            super().on_response_complete()
            self._header_deadline()

        def data_received(self, data):
            waiting_for_head = self.conn.their_state is h11.IDLE
            deadline = self.timeout_keep_alive_task if waiting_for_head else None
            self.timeout_keep_alive_task = None  # kept: trickled headers must not restart the clock
            super().data_received(data)
            if deadline is not None:
                if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                    self.timeout_keep_alive_task = deadline
                else:
                    deadline.cancel()

        def _header_deadline(self):
            self._unset_keepalive_if_required()
            if not self.transport.is_closing():
                self.timeout_keep_alive_task = self.loop.call_later(header_timeout, self.timeout_keep_alive_handler)

    return uvicorn.Config(app, http=HeaderTimeoutProtocol, log_level="warning", access_log=False,
                          timeout_keep_alive=5, limit_concurrency=max_connections,
                          h11_max_incomplete_event_size=16 * 1024)  # fmt: skip


class _Counter:
    """How much is in use (requests waiting, bytes held), with a ceiling."""

    def __init__(self, limit: int):
        self.limit, self.count, self.lock = limit, 0, threading.Lock()

    def enter(self, amount: int = 1) -> bool:
        with self.lock:
            if self.count + amount > self.limit:
                return False
            self.count += amount
            return True

    def leave(self, amount: int = 1) -> None:
        with self.lock:
            self.count -= amount


async def _finished_unless_gone(request: Request, job: concurrent.futures.Future) -> bool:
    """Wait for ``job``; False (the job cancelled if it has not started) when the client disconnects first."""

    async def gone():
        while (await request.receive())["type"] != "http.disconnect":
            await asyncio.sleep(0.1)  # a server that answers at once with empty bodies is not spun on

    watcher = asyncio.ensure_future(gone())
    finished = asyncio.wrap_future(job)
    try:
        await asyncio.wait({watcher, finished}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if finished.done():
        return True
    job.cancel()  # still queued: never runs; already running: its result is dropped
    return False


class _SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
                         if name.lower().encode() not in present]  # fmt: skip
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _SameOriginPosts:
    """Refuses (403) a POST whose ``Origin`` is neither the server's own nor allowed.

    A multipart POST is a CORS "simple request": a browser sends it from any web page
    without asking first, so the Origin header is checked here. Requests without one
    (curl, scripts) are let through.
    """

    def __init__(self, app, allow_origins=()):
        self.app, self.allow_origins = app, {origin.rstrip("/").lower() for origin in allow_origins}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(scope.get("headers", []))
            origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
            own = f"{scope.get('scheme', 'http')}://{headers.get(b'host', b'').decode('latin-1').lower()}"
            if origin and origin != own and origin not in self.allow_origins:
                response = _error(403, f"requests from the web page at {origin} are not allowed; "
                                       "start colorize serve with --allow-origin to allow it")  # fmt: skip
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


async def _http_error(request: Request, error: HTTPException) -> Response:
    """404, 405 ... as JSON ``{"error": ...}``, like every other error of the API."""
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}"
    elif error.status_code == 404:
        message = f"nothing at {request.url.path}"
    else:
        message = str(error.detail)
    return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)


async def _read_form(request: Request, max_bytes: int):
    """The multipart form, held in memory; ``_UploadTooLarge`` beyond ``max_bytes``.

    A declared Content-Length over the limit is refused before reading; a chunked body
    is counted as it arrives. File parts stay in memory (never spooled to disk).
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _UploadTooLarge()
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ValueError(f"got Content-Type {content_type or 'none'!r}")

    async def limited():
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise _UploadTooLarge()
            yield chunk

    parser = MultiPartParser(request.headers, limited(), max_files=1, max_fields=4)
    parser.spool_max_size = max_bytes + 1  # keep file parts in memory
    return await parser.parse()


def _render_size(value) -> int | None:
    if value in (None, "", "default"):
        return None
    low, high = RENDER_SIZE_RANGE
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = None
    if size is None or not low <= size <= high:
        raise ValueError(f"render_size must be a whole number from {low} to {high}; Received: render_size={value!r}")
    return size


def _strength(value) -> float | None:
    """The form's colour strength in [0, 1] (None: the model's own)."""
    if value in (None, "", "default"):
        return None
    try:
        strength = float(value)
    except (TypeError, ValueError):
        strength = float("nan")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be a number from 0 to 1; Received: strength={value!r}")
    return strength


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _header_safe(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in text)[:100]
