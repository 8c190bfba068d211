"""colorize: Keras 3 models that turn grayscale portraits into colour photographs.

The models work in CIELAB space: they read the lightness channel L and predict the
two chroma channels a*b*. Importing this package is cheap; TensorFlow is imported
only when a function that needs it is first used.

Keras finds this project's custom layers, losses and metrics once ``colorize.models`` is
imported. So that ``import colorize, keras; keras.saving.load_model("run/best.keras")``
works without importing TensorFlow at ``import colorize``, the package registers them the
moment Keras itself is first imported (at once, if it already is).

Example:
    >>> import colorize
    >>> colorize.__version__
    '0.1.0'
"""

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

__all__ = ["__version__", "colorize_image", "load_model"]


def __getattr__(name):
    # The public API is resolved lazily so that `import colorize` (and the CLI's
    # --help) never pays for importing TensorFlow.
    if name == "colorize_image":
        from colorize import inference

        return inference.colorize_image
    if name == "load_model":
        from colorize import saving

        return saving.load_model
    raise AttributeError(f"module 'colorize' has no attribute {name!r}")


class _RegisterWhenKerasLoads(importlib.abc.MetaPathFinder):
    """Import ``colorize.models`` (which registers every custom object) right after ``keras``.

    A one-shot import hook: it finds Keras' own module spec through the other finders and
    wraps that loader's ``exec_module``, then removes itself. Nothing is imported early.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load_keras = spec.loader.exec_module

        def exec_module(module):
            load_keras(module)
            importlib.import_module("colorize.models")

        spec.loader.exec_module = exec_module
        return spec


def _register_custom_objects() -> None:
    if "keras" in sys.modules:
        importlib.import_module("colorize.models")
    elif not any(isinstance(finder, _RegisterWhenKerasLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenKerasLoads())


_register_custom_objects()
