"""The server's limits in numbers: upload size, photos waiting, render sizes, pixels, header timeout, connections.

Plain values, no web framework: the apps (:mod:`colorize.serve.app`,
:mod:`colorize.serve.policy`) enforce them and ``colorize serve`` shows them as its
options' defaults.

Example:
    >>> from colorize.serve import limits
    >>> limits.DEFAULT_MAX_UPLOAD_MB
    40.0
"""

from __future__ import annotations

DEFAULT_MAX_UPLOAD_MB = 40.0  # a 40 MB upload is a very large scan; photos are a few MB
MAX_WAITING = 32  # photos queued for the model at once; more get 503 (the page sends one at a time)
HELD_UPLOADS = 4  # request bodies held in memory at once: at most this many times the upload limit
RENDER_SIZES = (192, 256, 384, 512, 768, 1024)  # what the page offers; the API takes any in RENDER_SIZE_RANGE
RENDER_SIZE_RANGE = (32, 2048)
MAX_PIXELS = 64_000_000  # a photo's pixels at most (8000 x 8000), fewer where memory is short
FULL_SIZE_BYTES_PER_PIXEL = 8  # a served photo at full size: decoded, coloured, encoded (measured ~6)
HEADER_TIMEOUT_S = 10  # a connection must send a request's headers within this
MAX_CONNECTIONS = 64  # uvicorn's limit_concurrency: more get 503
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # the Host names accepted when bound to loopback


def pixel_limit(available: int | None = None) -> int:
    """The most pixels a served photo may have: :data:`MAX_PIXELS`, fewer where the memory
    available (``runtime``'s measure, with the same 0.8 margin as its render-size check) is short.

    Example:
        >>> pixel_limit(available=100_000_000)
        10000000
    """
    if available is None:
        from colorize.infer import runtime

        available = runtime.available_memory()
    if available is None:
        return MAX_PIXELS
    return max(1_000_000, min(MAX_PIXELS, int(0.8 * available / FULL_SIZE_BYTES_PER_PIXEL)))
