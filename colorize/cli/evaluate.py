"""`colorize evaluate` (placeholder until its issue lands)."""

import click


@click.command()
def evaluate():
    """Not implemented yet."""
    raise click.ClickException("'colorize evaluate' is not implemented yet")
