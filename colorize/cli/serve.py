"""`colorize serve`: a local web page and HTTP API for colorizing photos."""

import errno
import ipaddress
import logging
import socket
import threading
import time
import webbrowser
from pathlib import Path

import click

from colorize.cli._common import handle_errors, load_keras, precision_option
from colorize.serve import limits

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only this computer can connect to 127.0.0.1; "
                   "0.0.0.0 lets anyone on your network use it.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--model", default="default", show_default=True,
              help="'default' (the bundled model), an .onnx file, a .keras file, or a training run directory.")
@click.option("--max-upload-mb", type=click.FloatRange(min=0, min_open=True), default=limits.DEFAULT_MAX_UPLOAD_MB,
              show_default=True, help="Largest upload accepted, in MB; larger ones get HTTP 413.")
@precision_option
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="URL",
              help="A web page origin (e.g. http://localhost:3000) allowed to call the API; "
                   "POSTs from other pages get HTTP 403. Repeat for several.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser once the server is up.")
@click.option("--study", "study_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Serve a blind preference study (from `colorize study make`) instead of the model.")
@handle_errors(import_keras=False)
def serve(host, port, model, max_upload_mb, precision, allow_origins, open_browser, study_dir):
    """Serve a web page to colorize photos in a browser, and an HTTP API.

    The model is loaded once. Photos are held in memory only and colorized one at a
    time; results are the same PNGs `colorize predict` writes. Stop with Ctrl-C.
    Other web pages cannot call it (403) unless named with --allow-origin; on
    127.0.0.1 only loopback Host names are accepted (the README's "Server policy").

    \b
    Endpoints:
      GET  /               the page: drop photos, compare gray | colour, download
      POST /api/colorize   multipart field 'image' (+ optional 'render_size') -> PNG
      GET  /api/health     model name and colorize version

    With --study STUDY: one pair at a time, keys A / B / T (tie), each rater's answers
    in STUDY/answers/NAME.csv; `colorize study score STUDY` sums them up.

    \b
    Examples:
      colorize serve --open
      colorize serve --study study/ --host 0.0.0.0
      curl -F image=@photo.jpg http://127.0.0.1:8000/api/colorize -o out.png
    """
    try:
        import uvicorn

        import colorize.serve as serving
        from colorize.serve import policy  # noqa: F401 - imports Starlette: a missing package is one line here
    except ImportError as error:
        raise click.ClickException(
            f"colorize serve needs the web server packages ({error.name} is missing): pip install 'colorize-keras[serve]'"
        ) from None

    listener = _listen(host, port)  # first: a busy port is said before the model loads
    # Bound to loopback: only loopback names in the Host header (a DNS-rebinding page sends its own).
    allowed_hosts = [*limits.LOOPBACK_HOSTS, _url_host(host)] if _is_loopback(host) else None
    if study_dir is not None:
        app = serving.create_study_app(study_dir, allowed_hosts, [_origin(o) for o in allow_origins])
        model = f"the study {study_dir}"
    else:
        from colorize.infer import runtime

        if runtime.runs_on_keras(model):
            load_keras()
        app = serving.create_app(model, max_upload_mb=max_upload_mb, precision=precision,
                                 allowed_hosts=allowed_hosts, allow_origins=[_origin(o) for o in allow_origins])  # fmt: skip
    url = f"http://{_url_host(host)}:{listener.getsockname()[1]}/"
    if not _is_loopback(host):
        click.echo(f"Warning: listening on {host}: other computers on your network can use this server.", err=True)
    server = uvicorn.Server(serving.server_config(app))
    click.echo(f"colorize is serving {model} at {url} (Ctrl-C stops it)")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a busy port is a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use by another program; pass another --port"
        else:
            reason = f"{(error.strerror or str(error)).split(' (while')[0]}; check --host"
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None


def _origin(text: str) -> str:
    """``--allow-origin``: scheme://host[:port], nothing else."""
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise click.BadParameter(f"expected an origin like http://localhost:3000; Received: {text!r}",
                                 param_hint="--allow-origin")  # fmt: skip
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _open_when_started(server, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.started and not server.should_exit and time.monotonic() < deadline:
        time.sleep(0.1)
    if server.started:
        webbrowser.open(url)
