"""Receiving photos: admission counters, the multipart form held in memory, a client that has gone.

The photo page's API (:mod:`colorize.serve.app`) admits a request before reading its body
(:class:`Counter`), reads the form into memory within a byte limit (:func:`read_form`, never
spooled to disk) and stops waiting for the model when the client disconnects
(:func:`finished_unless_gone`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from starlette.formparsers import MultiPartParser
from starlette.requests import Request


class UploadTooLarge(Exception):
    """The request body is over the upload limit."""


class Counter:
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


async def finished_unless_gone(request: Request, job: concurrent.futures.Future) -> bool:
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


async def read_form(request: Request, max_bytes: int):
    """The multipart form, held in memory; ``UploadTooLarge`` beyond ``max_bytes``.

    A declared Content-Length over the limit is refused before reading; a chunked body
    is counted as it arrives. File parts stay in memory (never spooled to disk).
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise UploadTooLarge()
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ValueError(f"got Content-Type {content_type or 'none'!r}")

    async def limited():
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise UploadTooLarge()
            yield chunk

    parser = MultiPartParser(request.headers, limited(), max_files=1, max_fields=4)
    parser.spool_max_size = max_bytes + 1  # keep file parts in memory
    return await parser.parse()
