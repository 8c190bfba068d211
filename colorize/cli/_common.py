"""Helpers shared by the subcommand modules: error handling and small click types."""

import functools
import logging

import click

from colorize.errors import ColorizeError

log = logging.getLogger(__name__)


def handle_errors(function):
    """Turn expected library errors into a one-line message and exit code 1.

    A user's mistake (missing file, bad value, unreadable image) never shows a
    traceback; anything else is re-raised so that real bugs stay visible.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ColorizeError, ValueError, OSError) as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            log.debug("command failed", exc_info=True)
            raise click.ClickException(message) from error

    return wrapper


def echo_table(rows, headers):
    """Echo a list of row tuples as an aligned plain-text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * width for width in widths))
