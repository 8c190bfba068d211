"""Read a PyTorch checkpoint's tensors as NumPy arrays, without PyTorch.

Only what loading a pretrained extractor needs: a state dict (name -> tensor) saved by
``torch.save`` in the legacy (non-zip) format, which is a few pickles followed by the raw
storages. The pickles are read with an unpickler that builds nothing but tensors, ordered
dicts and plain values, so a checkpoint cannot run code.

Example:
    >>> from colorize.models import torch_checkpoint
    >>> state = torch_checkpoint.load("efficientnet-lite0-57934424.pth")  # doctest: +SKIP
    >>> state["_conv_stem.weight"].shape  # doctest: +SKIP
    (32, 3, 3, 3)
"""

from __future__ import annotations

import collections
import io
import pickle
import struct

import numpy as np

_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}  # fmt: skip


class _Storage:
    def __init__(self, dtype, key: str):
        self.dtype = dtype
        self.key = key


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)


def _rebuild_tensor(storage, offset, size, stride, *_):
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file):
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"a checkpoint may hold tensors only; it names {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], str(pid[2])
        if kind != "storage" or storage_type not in _STORAGE_DTYPES:
            raise pickle.UnpicklingError(f"unsupported storage {pid[:2]!r}")
        return self.storages.setdefault(key, _Storage(_STORAGE_DTYPES[storage_type], key))


def load(file) -> "collections.OrderedDict[str, np.ndarray]":
    """The state dict in a legacy ``torch.save`` file (path or binary file object): name -> array.

    Raises:
        ValueError: not such a checkpoint, or one holding anything but tensors.
    """
    if not hasattr(file, "read"):
        with open(file, "rb") as handle:
            return load(io.BytesIO(handle.read()))
    try:
        if pickle.load(file) != _MAGIC:
            raise ValueError("not a PyTorch legacy checkpoint")
        pickle.load(file)  # protocol version
        pickle.load(file)  # system info
        unpickler = _Unpickler(file)
        state = unpickler.load()
        keys = pickle.load(file)
        raw = {}
        for key in keys:
            (count,) = struct.unpack("<q", file.read(8))
            storage = unpickler.storages[str(key)]
            size = count * np.dtype(storage.dtype).itemsize
            data = file.read(size)
            if len(data) != size:
                raise ValueError("truncated")
            raw[str(key)] = np.frombuffer(data, dtype=storage.dtype)
    except (pickle.UnpicklingError, EOFError, struct.error, KeyError, TypeError, ValueError, AttributeError,
            IndexError, OverflowError, MemoryError, UnicodeDecodeError) as error:  # a damaged file: any of these
        error = error if str(error) else type(error).__name__
        raise ValueError(f"not a PyTorch legacy checkpoint ({error})") from None
    if not isinstance(state, dict):
        raise ValueError("the checkpoint holds no state dict")
    arrays = collections.OrderedDict()
    for name, tensor in state.items():
        if isinstance(tensor, _Tensor):
            flat = raw.get(tensor.storage.key)
            if flat is None:
                raise ValueError(f"not a PyTorch legacy checkpoint (no data for {name})")
            arrays[name] = np.lib.stride_tricks.as_strided(
                flat[tensor.offset:], shape=tensor.size, strides=[s * flat.itemsize for s in tensor.stride]
            ).copy()
    return arrays
