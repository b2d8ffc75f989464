import json
import os
import struct

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("ADAMP_FIXTURES") or os.path.normpath(os.path.join(HERE, "../../../../shared/fixtures"))

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    """The tensors and metadata of a .safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[a:b]), dtype=DTYPES[h["dtype"]]).reshape(h["shape"]) \
            if b > a else torch.zeros(h["shape"], dtype=DTYPES[h["dtype"]])
    return tensors, meta


def fixture_files():
    if not os.path.isdir(FIXTURES):
        return []
    return sorted(f for f in os.listdir(FIXTURES) if f.endswith(".safetensors"))


@pytest.fixture
def fixtures_dir():
    return FIXTURES
