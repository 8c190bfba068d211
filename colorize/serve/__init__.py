"""`colorize serve`'s web apps: the photo page and API, the blind study's page, behind one server policy.

    app.py        create_app: the photo page and its API (one model, photos one at a time)
    uploads.py    receiving photos: admission counters, the form in memory, a client that has gone
    study_app.py  create_study_app: the blind study's page and its answers
    policy.py     Host names, web origins, security headers (guarded_app); uvicorn's settings
    limits.py     the limits in numbers (upload size, queue, pixels, connections): no web framework

The page's files are ``colorize/assets/web`` (:func:`web_root`). The public names below are
imported on first use, so that ``colorize serve --help`` reads :mod:`limits` for its
defaults without importing Starlette.

Example:
    >>> import uvicorn
    >>> from colorize import serve
    >>> app = serve.create_app("default", allowed_hosts=serve.LOOPBACK_HOSTS)  # doctest: +SKIP
    >>> uvicorn.Server(serve.server_config(app)).run()  # doctest: +SKIP
"""

import importlib

# public name -> the module of this package that defines it
_EXPORTS = {
    "create_app": "app", "web_root": "app",
    "create_study_app": "study_app",
    "SECURITY_HEADERS": "policy", "guarded_app": "policy", "server_config": "policy",
    "DEFAULT_MAX_UPLOAD_MB": "limits", "HEADER_TIMEOUT_S": "limits", "HELD_UPLOADS": "limits",
    "LOOPBACK_HOSTS": "limits", "MAX_CONNECTIONS": "limits", "MAX_PIXELS": "limits", "MAX_WAITING": "limits",
    "RENDER_SIZES": "limits", "RENDER_SIZE_RANGE": "limits", "pixel_limit": "limits",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
