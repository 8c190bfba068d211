"""The photo page's web app: one page and an HTTP API around :func:`colorize.infer.colorize_bytes`.

``create_app(model)`` loads the model once and returns a Starlette (ASGI) application:

* ``GET /``: one page (HTML, CSS and JavaScript from ``colorize/assets/web``, no build
  step, nothing from the internet) to drop or pick photos and download the results.
* ``POST /api/colorize``: multipart field ``image`` (optional fields or query parameters
  ``render_size``, ``strength``, the colour strength 0..1, and ``faces``, ``on`` or ``off``: the
  face pass, on for the bundled model's presets) -> ``image/png``, the same
  bytes ``colorize predict`` writes for that file. Errors are JSON ``{"error": "..."}`` with
  a 4xx status (413: too large, 415: not an image, 422: a bad render size, 503: too many
  photos waiting).
* ``GET /api/health``: the model and the colorize version.

Uploads are held in memory, never written to disk; one worker thread runs the model,
so photos are colorized one at a time in the order they arrived. A full queue is
refused before a body is read, the bodies held at once are bounded, a photo of more
pixels than memory allows is refused from its header (415), and a photo whose client
has gone is skipped. The app is behind the server's policy (:mod:`colorize.serve.policy`:
Host names, other web pages' POSTs, security headers).

Example:
    >>> import uvicorn
    >>> uvicorn.run(create_app("default"), host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from colorize import __version__, errors, infer, saving
from colorize.errors import ColorizeError
from colorize.infer import runtime
from colorize.io.decode import header_size
from colorize.registry import PRESETS
from colorize.serve import uploads
from colorize.serve.limits import (
    DEFAULT_MAX_UPLOAD_MB,
    HELD_UPLOADS,
    MAX_WAITING,
    RENDER_SIZE_RANGE,
    RENDER_SIZES,
    pixel_limit,
)
from colorize.serve.policy import error_response, guarded_app

log = logging.getLogger(__name__)


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
            None: any); `colorize serve` passes :data:`colorize.serve.limits.LOOPBACK_HOSTS` when bound to loopback.
        allow_origins: web origins (``http://host:port``) allowed to POST, besides the
            page's own; others get 403.
        max_pixels: the most pixels a photo may have (None: :func:`colorize.serve.limits.pixel_limit`); more get 415.

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
        "faces": runner.faces,
    }
    # One worker thread: photos go through the model one at a time, in arrival order.
    worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-model")
    waiting = uploads.Counter(max_waiting)
    held = uploads.Counter(HELD_UPLOADS * max_bytes)  # bytes of request bodies in memory

    async def page(request: Request) -> Response:
        return FileResponse(web_root() / "index.html", headers={"Cache-Control": "no-cache"})

    async def health_endpoint(request: Request) -> Response:
        return JSONResponse(health)

    async def colorize_endpoint(request: Request) -> Response:
        # Admitted before the body is read: a full queue or too many bodies in memory cost nothing.
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() and int(declared) <= max_bytes else max_bytes
        if not waiting.enter():
            return error_response(503, f"busy: {max_waiting} photos are already waiting; try again in a moment")
        if not held.enter(size):
            waiting.leave()
            return error_response(503, "busy: too many uploads are being received; try again in a moment")
        try:
            return await _colorize(request)
        finally:
            held.leave(size)
            waiting.leave()

    async def _colorize(request: Request) -> Response:
        try:
            form = await uploads.read_form(request, max_bytes)
        except uploads.UploadTooLarge:
            return error_response(413, f"the upload is larger than the limit of {max_upload_mb:g} MB")
        except (MultiPartException, KeyError, ValueError) as error:
            return error_response(400, f"expected a multipart/form-data upload with a file field 'image' ({error})")
        except ClientDisconnect:
            return error_response(400, "the upload was interrupted")
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            return error_response(400, "no file in the field 'image'; send it as: curl -F image=@photo.jpg URL")
        name = os.path.basename(upload.filename or "upload") or "upload"
        data = await upload.read()
        if not data:
            return error_response(400, f"{name} is empty")
        try:
            render_size = _render_size(form.get("render_size") or request.query_params.get("render_size"))
            chosen = runner.with_strength(_strength(form.get("strength") or request.query_params.get("strength")))
            chosen = chosen.with_faces(_faces(form.get("faces") or request.query_params.get("faces")))
        except ValueError as error:
            return error_response(422, str(error))
        width, height = header_size(data)
        if width < 0:
            return error_response(415, f"{name} has more megapixels than Pillow decodes "
                                       f"(2 x PIL.Image.MAX_IMAGE_PIXELS); this server takes at most "
                                       f"{max_pixels / 1e6:.0f}")  # fmt: skip
        if width * height > max_pixels:
            return error_response(415, f"{name} has {width * height / 1e6:.0f} megapixels; this server "
                                       f"takes at most {max_pixels / 1e6:.0f} (colorize predict takes "
                                       "larger photos)")  # fmt: skip
        job = worker.submit(infer.colorize_bytes, data, chosen, render_size, name)
        del form, upload, data
        if not await uploads.finished_unless_gone(request, job):
            log.info("%s: the client has gone; not colorized", name)
            return Response(status_code=499)
        try:
            png = job.result()
        except ColorizeError as error:
            return error_response(415, errors.one_line(error))
        except MemoryError:
            return error_response(413, f"{name} is too large to colorize in this machine's memory")
        except Exception as error:  # noqa: BLE001 - a failed photo must not stop the server
            log.error("colorizing %s failed", name, exc_info=error)
            return error_response(500, f"colorizing {name} failed: {errors.one_line(error)}")
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


def _faces(value) -> bool | None:
    """The form's face pass: on or off (None: the model's own)."""
    if value in (None, "", "default"):
        return None
    choice = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}.get(str(value).lower())
    if choice is None:
        raise ValueError(f"faces must be on or off; Received: faces={value!r}")
    return choice


def _header_safe(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in text)[:100]
