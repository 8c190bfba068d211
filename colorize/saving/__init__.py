"""Loading and exporting trained models: the self-contained inference form a user ships.

One module per job, imports pointing one way (each only on those below it):

    export.py       export_model: a trained model's inference form as .keras or .onnx;
                    average_weights: the weight-space mean of copies of one network
    onnx_export.py  export_onnx: conversion, graph clean-up, the ONNX runner's metadata
    rebuilding.py   a network rebuilt from its config: any input size, or float32
    save.py         save_model: atomic, refusing NaN or infinite weights
    loading.py      resolve "default" / a file / a run directory, check the archive, load

Example:
    >>> from colorize import saving
    >>> model = saving.load_model("runs/unet")  # doctest: +SKIP
    >>> saving.export_model("runs/bins", "my_model.onnx")  # doctest: +SKIP
"""

from colorize.saving.loading import (
    MAX_ARCHIVE_BYTES,
    MAX_CONFIG_MEMBER_BYTES,
    ModelLoadError,
    check_archive_sizes,
    default_model_path,
    default_onnx_path,
    load_inference_model,
    load_model,
    load_saved_model,
    load_trained_model,
    onnxruntime_installed,
    resolve_model_path,
    saved_model_config,
)
from colorize.saving.rebuilding import float32_copy, rebuild
from colorize.saving.save import NonFiniteWeightsError, save_model

from colorize.saving.onnx_export import (  # isort: skip - after the modules it builds on
    ONNX_INPUT,
    ONNX_METADATA_PREFIX,
    ONNX_OPSET,
    ONNX_OUTPUTS,
    export_onnx,
)
from colorize.saving.export import EXPORT_FORMATS, average_weights, export_model  # isort: skip

__all__ = [
    "EXPORT_FORMATS",
    "MAX_ARCHIVE_BYTES",
    "MAX_CONFIG_MEMBER_BYTES",
    "ONNX_INPUT",
    "ONNX_METADATA_PREFIX",
    "ONNX_OPSET",
    "ONNX_OUTPUTS",
    "ModelLoadError",
    "NonFiniteWeightsError",
    "average_weights",
    "check_archive_sizes",
    "default_model_path",
    "default_onnx_path",
    "export_model",
    "export_onnx",
    "float32_copy",
    "load_inference_model",
    "load_model",
    "load_saved_model",
    "load_trained_model",
    "onnxruntime_installed",
    "rebuild",
    "resolve_model_path",
    "save_model",
    "saved_model_config",
]
