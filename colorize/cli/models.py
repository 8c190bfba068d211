"""`colorize models`: the bundled model's presets and the model families one can train."""

import click

from colorize import registry


@click.command()
def models():
    """List the presets of the bundled model (for --model) and the families `train --model` builds.

    \b
    Example:
      colorize predict photo.jpg --model natural
    """
    click.echo("Presets of the bundled model (colorize predict/serve/evaluate --model NAME):")
    for preset in registry.PRESETS.values():
        click.echo(f"  {preset.name:<9} strength {preset.strength:.2f}  {preset.description}")
    click.echo("\nModel families to train (colorize train --model NAME):")
    for spec in registry.MODELS.values():
        click.echo(f"  {spec.name:<20} {spec.description}")
