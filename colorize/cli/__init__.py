"""The `colorize` command-line interface.

Each subcommand lives in its own small module of this package and is imported only
when it is run (or listed by ``--help``), so ``colorize --help`` never imports
TensorFlow. The modules validate with click types, build a config, call one library
function and echo the result; only this package prints or exits.
"""

import importlib
import logging
import os

import click

# NumPy's OpenBLAS would start a thread per core for the decoding's small products and keep
# them spinning after each one, beside the pipeline's own threads (a folder of photos took a
# third more CPU). The command imports numpy only after this line, so it takes effect there;
# a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from colorize import __version__
from colorize.cli._common import quiet_tensorflow_logs

# name -> "module:attribute"; `colorize colorize` is an alias of `predict`.
COMMANDS = {
    "prepare": "colorize.cli.prepare:prepare",
    "train": "colorize.cli.train:train",
    "evaluate": "colorize.cli.evaluate:evaluate",
    "predict": "colorize.cli.predict:predict",
    "export": "colorize.cli.export:export",
    "colorize": "colorize.cli.predict:predict",
    "serve": "colorize.cli.serve:serve",
    "models": "colorize.cli.models:models",
    "study": "colorize.cli.study:study",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is needed."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if name == "colorize":
            command = _alias(command, "colorize", "Alias of `colorize predict`.")
        return command


class _StandardError(logging.StreamHandler):
    """Logs to whatever ``sys.stderr`` is when a record is written, not when the CLI started: run
    in-process (click's CliRunner, a notebook), a later record never meets a closed stream."""

    @property
    def stream(self):
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _alias(command, name, help_text):
    alias = click.Command(
        name=name,
        params=command.params,
        callback=command.callback,
        help=f"{help_text}\n\n{command.help or ''}",
        short_help=help_text,
        context_settings=command.context_settings,
    )
    return alias


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="colorize")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Colorize grayscale portraits with deep CIELAB models.

    \b
    Typical use:
      colorize predict old_photo.jpg            # colour photo beside the input
      colorize prepare photos/ -o data/         # build a training set
      colorize train data/ --model fusion --extractor vggface -o runs/fusion
      colorize evaluate runs/fusion data/ --baselines -o report/
      colorize serve --open                     # a web page: drop photos, get colour
      colorize study make out/a out/b -o study/ # a blind preference study of two colorizers
    """
    level = logging.WARNING - 10 * verbose
    handler = _StandardError()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=max(level, logging.DEBUG), handlers=[handler])
    quiet_tensorflow_logs(verbose)
