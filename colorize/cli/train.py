"""`colorize train` (placeholder until its issue lands)."""

import click


@click.command()
def train():
    """Not implemented yet."""
    raise click.ClickException("'colorize train' is not implemented yet")
