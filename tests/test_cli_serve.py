"""`colorize serve` in-process: help, one-line errors, and what it passes to the apps."""

import pytest
from click.testing import CliRunner

from colorize.cli import main

pytest.importorskip("starlette")
pytest.importorskip("httpx")


def test_cli_serve_help_and_a_bad_model_is_a_one_line_error(tmp_path):
    runner = CliRunner()
    help_text = runner.invoke(main, ["serve", "--help"]).output
    assert "--port" in help_text and "/api/colorize" in help_text

    result = runner.invoke(main, ["serve", "--model", str(tmp_path / "missing.keras"), "--port", "0"])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert "missing.keras not found" in result.output


def test_cli_serve_on_a_busy_port_is_a_one_line_error(unet_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--model", str(unet_path), "--port", str(port)])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # an error message, not a crash
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.output


def test_serve_passes_loopback_hosts_and_the_allowed_origins(unet_path, monkeypatch):
    from colorize import serve

    seen = {}

    def create_app(model, **options):
        seen[options.get("allowed_hosts") and "loopback" or "any"] = options
        raise ValueError("stopped here")

    monkeypatch.setattr(serve, "create_app", create_app)
    runner = CliRunner()
    runner.invoke(main, ["serve", "--model", str(unet_path), "--port", "0", "--allow-origin", "http://localhost:3000/"])
    runner.invoke(main, ["serve", "--model", str(unet_path), "--port", "0", "--host", "0.0.0.0"])
    assert set(seen["loopback"]["allowed_hosts"]) >= {"127.0.0.1", "localhost"}
    assert seen["loopback"]["allow_origins"] == ["http://localhost:3000"]
    assert seen["any"]["allowed_hosts"] is None  # on a network address: the user chose who can reach it
    bad = runner.invoke(main, ["serve", "--model", str(unet_path), "--allow-origin", "evil.example"])
    assert bad.exit_code == 2 and "--allow-origin" in bad.output
