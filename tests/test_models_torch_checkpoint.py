"""colorize.models.torch_checkpoint: a legacy torch.save state dict read without PyTorch."""

import io
import pickle
import types

import numpy as np
import pytest
from conftest import write_legacy_checkpoint

from colorize.models import torch_checkpoint


def test_a_legacy_state_dict_reads_back_as_the_arrays_saved():
    arrays = {"conv.weight": np.arange(24, dtype="float32").reshape(2, 3, 2, 2), "bn.bias": np.array([0.5, -1.0], "float32")}
    buffer = io.BytesIO()
    write_legacy_checkpoint(buffer, arrays)
    buffer.seek(0)
    loaded = torch_checkpoint.load(buffer)
    assert list(loaded) == list(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_anything_but_a_checkpoint_of_tensors_is_refused():
    with pytest.raises(ValueError, match="not a PyTorch legacy checkpoint"):
        torch_checkpoint.load(io.BytesIO(b"PK\x03\x04 a zip, say"))
    damaged = (b"\x80\x02\x96" + (2**61).to_bytes(8, "little"),  # a pickle header, then an 18 EB bytearray
               b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")  # the magic number, then nothing
    for data in damaged:
        with pytest.raises(ValueError, match="not a PyTorch legacy checkpoint"):
            torch_checkpoint.load(io.BytesIO(data))
    malicious = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(header, malicious, protocol=2)
    pickle.dump(types.SimpleNamespace(), malicious, protocol=2)  # names a class: refused, nothing built
    malicious.seek(0)
    with pytest.raises(ValueError, match="tensors only"):
        torch_checkpoint.load(malicious)
