"""`colorize predict` (placeholder until its issue lands)."""

import click


@click.command()
def predict():
    """Not implemented yet."""
    raise click.ClickException("'colorize predict' is not implemented yet")
