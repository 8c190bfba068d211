"""colorize: Keras 3 models that turn grayscale portraits into colour photographs.

The models work in CIELAB space: they read the lightness channel L and predict the
two chroma channels a*b*. Importing this package is cheap; TensorFlow is imported
only when a function that needs it is first used.

Example:
    >>> import colorize
    >>> colorize.__version__
    '0.1.0'
"""

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
