"""The blind study's web app (``colorize serve --study``): one pair at a time, each answer recorded.

``create_study_app(study)`` returns a Starlette (ASGI) application over a folder written by
:func:`colorize.study.make_study`:

* ``GET /``: the page. A rater gives a name, then sees one pair at a time and answers with
  the keys A, B or T (tie), or the buttons; answered pairs are not shown again.
* ``GET /api/study?rater=NAME``: the pair numbers in order and that rater's answers so far.
* ``POST /api/study/answer``: JSON ``{"rater", "pair", "choice"}`` (choice A, B or tie);
  recorded at once in ``answers/NAME.csv`` (rewritten atomically, one writer at a time).
* ``GET /pairs/NNN_A.png``, ``/pairs/NNN_B.png``: the pair's images. Nothing else of the
  folder is served: ``key.json`` never leaves it.

Example:
    >>> import uvicorn
    >>> uvicorn.run(create_study_app("study"), host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from colorize import __version__
from colorize import study as studies
from colorize.serve.app import web_root
from colorize.serve.policy import guarded_app


def create_study_app(study: str | os.PathLike, allowed_hosts=None, allow_origins=()) -> Starlette:
    """The study page and its small API over the folder ``study``, behind the server's policy
    (:func:`colorize.serve.policy.guarded_app`: ``allowed_hosts``, ``allow_origins``).

    Raises:
        colorize.study.StudyError: ``study`` holds no key or no pairs.
    """
    study = Path(study)
    studies.read_key(study)  # a folder without a key is not a study
    numbers = studies.pair_numbers(study)
    if not numbers:
        raise studies.StudyError(f"{study / 'pairs'} holds no pairs; write the study with `colorize study make`")
    web = web_root()
    writing = threading.Lock()  # one rewrite of an answers CSV at a time

    async def page(request: Request) -> Response:
        return FileResponse(web / "study.html", headers={"Cache-Control": "no-cache"})

    async def study_endpoint(request: Request) -> Response:
        rater = request.query_params.get("rater")
        answered = {}
        if rater:
            try:
                path = studies.answers_path(study, rater)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=422)
            if path.exists():
                answered = {str(pair): row["choice"] for pair, row in studies.read_answers(path).items()}
        return JSONResponse({"pairs": numbers, "answered": answered, "version": __version__})

    async def answer_endpoint(request: Request) -> Response:
        try:
            body = await request.json()
            rater, pair, choice = str(body["rater"]), int(body["pair"]), str(body["choice"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'expected JSON {"rater": NAME, "pair": N, "choice": "A"|"B"|"tie"}'},
                                status_code=400)  # fmt: skip

        def record():
            with writing:
                studies.record_answer(study, rater, pair, choice)
                return len(studies.read_answers(studies.answers_path(study, rater)))

        try:
            count = await asyncio.get_running_loop().run_in_executor(None, record)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        return JSONResponse({"answered": count, "total": len(numbers)})

    routes = [
        Route("/", page),
        Route("/api/study", study_endpoint),
        Route("/api/study/answer", answer_endpoint, methods=["POST"]),
        Mount("/pairs", StaticFiles(directory=study / "pairs"), name="pairs"),
        Mount("/static", StaticFiles(directory=web), name="static"),
    ]
    return guarded_app(routes, allowed_hosts, allow_origins)
