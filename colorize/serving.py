"""A local web page and HTTP API around :func:`colorize.inference.colorize_bytes`.

``create_app(model)`` loads the model once and returns a Starlette (ASGI) application:

* ``GET /``: one page (HTML, CSS and JavaScript from ``colorize/assets/web``, no build
  step, nothing from the internet) to drop or pick photos and download the results.
* ``POST /api/colorize``: multipart field ``image`` (optional field or query parameter
  ``render_size``) -> ``image/png``, the same bytes ``colorize predict`` writes for
  that file. Errors are JSON ``{"error": "..."}`` with a 4xx status (413: too large,
  415: not an image, 422: a bad render size, 503: too many photos waiting).
* ``GET /api/health``: the model and the colorize version.

Uploads are held in memory, never written to disk; one worker thread runs the model,
so photos are colorized one at a time in the order they arrived.

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
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from colorize import __version__, inference, runtime, saving
from colorize.errors import ColorizeError

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 40.0  # a 40 MB upload is a very large scan; photos are a few MB
MAX_WAITING = 32  # photos queued for the model at once; more get 503 (the page sends one at a time)
RENDER_SIZES = (256, 384, 512, 768, 1024)  # what the page offers; the API takes any in RENDER_SIZE_RANGE
RENDER_SIZE_RANGE = (32, 2048)


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
) -> Starlette:
    """The web application, with the model loaded.

    Args:
        model: "default", a ``.keras`` file or a training run directory.
        max_upload_mb: the largest request body accepted, in megabytes (10^6 bytes).
        max_waiting: how many photos may wait for (or be in) the model; more get 503.
        precision: "auto", "float32" or "bfloat16", as `colorize predict --precision`
            (the same default, so the API returns the bytes predict writes).

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
    path = saving.resolve_model_path(model)
    runner = runtime.load_runner(path, precision)
    max_bytes = int(max_upload_mb * 1_000_000)
    health = {
        "status": "ok",
        "model": str(model),
        "model_file": path.name,
        "version": __version__,
        "fixed_size": runner.fixed_size,
        "max_upload_mb": max_upload_mb,
        "render_sizes": list(RENDER_SIZES),
        "default_render_size": runner.default_render_size,
    }
    # One worker thread: photos go through the model one at a time, in arrival order.
    worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-model")
    waiting = _Counter(max_waiting)

    async def page(request: Request) -> Response:
        return FileResponse(web_root() / "index.html", headers={"Cache-Control": "no-cache"})

    async def health_endpoint(request: Request) -> Response:
        return JSONResponse(health)

    async def colorize_endpoint(request: Request) -> Response:
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
        except ValueError as error:
            return _error(422, str(error))
        if not waiting.enter():
            return _error(503, f"busy: {max_waiting} photos are already waiting; try again in a moment")
        try:
            loop = asyncio.get_running_loop()
            png = await loop.run_in_executor(worker, inference.colorize_bytes, data, runner, render_size, name)
        except ColorizeError as error:
            return _error(415, _one_line(error))
        except MemoryError:
            return _error(413, f"{name} is too large to colorize in this machine's memory")
        except Exception as error:  # noqa: BLE001 - a failed photo must not stop the server
            log.exception("colorizing %s failed", name)
            return _error(500, f"colorizing {name} failed: {_one_line(error)}")
        finally:
            waiting.leave()
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
    return Starlette(routes=routes, lifespan=lifespan)


class _Counter:
    """How many requests are waiting for the model, with a ceiling."""

    def __init__(self, limit: int):
        self.limit, self.count, self.lock = limit, 0, threading.Lock()

    def enter(self) -> bool:
        with self.lock:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.count -= 1


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


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _header_safe(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in text)[:100]
