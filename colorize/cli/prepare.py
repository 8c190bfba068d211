"""`colorize prepare` (placeholder until its issue lands)."""

import click


@click.command()
def prepare():
    """Not implemented yet."""
    raise click.ClickException("'colorize prepare' is not implemented yet")
