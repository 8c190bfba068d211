"""The server's policy: who may call it (Host names, web origins), the headers on every response, uvicorn's settings.

:func:`guarded_app` puts routes behind the policy (the photo page's and the study's
apps both use it): every response, refusals included, carries :data:`SECURITY_HEADERS`;
only ``allowed_hosts`` may be named in the Host header (DNS rebinding; ``colorize serve``
passes :data:`colorize.serve.limits.LOOPBACK_HOSTS` on loopback); POSTs from other web
pages than the app's own and ``allow_origins`` get 403; HTTP errors are JSON.
:func:`server_config` gives uvicorn's settings: a header timeout and a connection limit.

Example:
    >>> from starlette.routing import Route  # doctest: +SKIP
    >>> app = guarded_app([Route("/", page)], allowed_hosts=LOOPBACK_HOSTS)  # doctest: +SKIP
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from colorize.serve.limits import HEADER_TIMEOUT_S, MAX_CONNECTIONS

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


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


def server_config(app, header_timeout: float = HEADER_TIMEOUT_S, max_connections: int = MAX_CONNECTIONS):
    """uvicorn's settings for an application of this package (pass ``sockets=`` to ``Server.run``).

    A connection that has not sent a request's headers within ``header_timeout`` seconds
    is closed (uvicorn's keep-alive timer, also run before each request); idle
    keep-alive connections close after 5 s; beyond ``max_connections`` connections or
    requests at once, uvicorn answers 503 (``limit_concurrency``); a request head over
    16 KB is refused (h11's limit). uvicorn's warnings and errors go to the logging
    the caller set up (the CLI's: ``sys.stderr`` as it is when a line is written); uvicorn
    does not install handlers of its own, which would keep the stream of the moment.
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
                          h11_max_incomplete_event_size=16 * 1024, log_config=None)  # fmt: skip


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
                response = error_response(403, f"requests from the web page at {origin} are not allowed; "
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


def error_response(status: int, message: str) -> JSONResponse:
    """An error as every route of the server answers it: JSON ``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status)
