"""colorize: Keras 3 models that turn grayscale portraits into colour photographs.

The models work in CIELAB space: they read the lightness channel L and predict the
two chroma channels a*b*. Importing this package is cheap: it imports neither Keras
nor TensorFlow. The public functions and the submodules (``colorize.models``,
``colorize.saving``, ...) are imported the first time they are used.

Keras finds this project's custom layers, losses and metrics once ``colorize.models`` is
imported, so a script that loads a saved model with Keras' own loader imports it first:

    >>> import colorize.models, keras  # doctest: +SKIP
    >>> model = keras.saving.load_model("runs/unet/best.keras")  # doctest: +SKIP

Example:
    >>> import colorize
    >>> colorize.__version__
    '0.2.0'
"""

import importlib
import importlib.util

__version__ = "0.2.0"

__all__ = ["__version__", "colorize_image", "load_inference_model", "load_model", "load_trained_model"]

# Public functions, resolved lazily so that `import colorize` (and the CLI's --help)
# never pays for importing Keras or TensorFlow: name -> (module, attribute).
_LAZY_FUNCTIONS = {
    "colorize_image": ("colorize.infer.image", "colorize_image"),
    "load_inference_model": ("colorize.saving", "load_inference_model"),
    "load_model": ("colorize.saving", "load_model"),  # the first name of load_inference_model
    "load_trained_model": ("colorize.saving", "load_trained_model"),
}


def __getattr__(name):
    if name in _LAZY_FUNCTIONS:
        module, attribute = _LAZY_FUNCTIONS[name]
        return getattr(importlib.import_module(module), attribute)
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # a submodule: colorize.models, ...
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_FUNCTIONS))
