"""The ONNX Runtime implementation of the runner: an ``.onnx`` model with neither Keras nor TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from colorize import saving
from colorize.color import bins
from colorize.errors import one_line
from colorize.infer.runtime import Runner


class OnnxRunner(Runner):
    """A :class:`Runner` whose network is an ONNX Runtime session (``colorize export -o x.onnx``).

    The same interface, the same NumPy decoding of a bins model (its settings read from the
    file's metadata); ONNX Runtime on the CPU computes in float32 whatever precision is
    asked. One session per file and process (:func:`load_runner` caches it), with
    ``intra_op_num_threads`` = the cores this process may use.
    """

    shares_calls = False  # one photo per session.run: as fast, and its arena stays one photo's size

    @classmethod
    def load(cls, path: str | os.PathLike) -> "OnnxRunner":
        """The runner of an ``.onnx`` file written by :func:`colorize.saving.export_onnx`.

        Raises:
            colorize.saving.ModelLoadError: ONNX Runtime is missing, or the file is not a
                readable ONNX model exported by colorize.
        """
        import json

        try:
            import onnxruntime
        except ImportError:
            raise saving.ModelLoadError(
                f"{path} is an ONNX model and ONNX Runtime is not installed: pip install onnxruntime"
            ) from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = usable_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Decoding, colouring and encoding threads share the cores: workers that sleep when idle.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # The arena keeps the network's buffers from one call to the next (half the time of
        # allocating them afresh); photos run one at a time (as fast), so it stays one photo's size.
        options.enable_cpu_mem_arena = True
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - a corrupt or foreign file, reported in one line
            reason = one_line(error, limit=300, whole=True)
            raise saving.ModelLoadError(f"could not load ONNX model {path} ({reason})") from None
        facts = {key[len(saving.ONNX_METADATA_PREFIX) :]: value
                 for key, value in session.get_modelmeta().custom_metadata_map.items()
                 if key.startswith(saving.ONNX_METADATA_PREFIX)}  # fmt: skip
        if facts.get("output") not in saving.ONNX_OUTPUTS or len(session.get_inputs()) != 1:
            raise saving.ModelLoadError(
                f"{path} is not an ONNX model exported by colorize; make one with `colorize export RUN -o {Path(path).name}`"
            )
        decoding = None
        if facts["output"] == "ab_bins":
            stored = json.loads(facts["decoding"])
            prior = None if stored.get("log_prior") is None else tuple(stored["log_prior"])
            decoding = bins.Decoding(temperature=stored["temperature"], log_prior=prior, grid=stored["grid"])
        fixed = int(facts["fixed_size"]) if facts.get("fixed_size") else None
        trained = int(facts["trained_size"]) if facts.get("trained_size") else None
        return cls(session, fixed, trained, "float32", decoding)

    def _compiled(self):
        if self._call is None:
            session = self.model
            name = session.get_inputs()[0].name

            def call(batch):
                batch = np.ascontiguousarray(batch, np.float32)
                if len(batch) == 1:
                    return session.run(None, {name: batch})[0]
                return np.concatenate([session.run(None, {name: batch[index : index + 1]})[0] for index in range(len(batch))])

            self._call = call
        return self._call


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
