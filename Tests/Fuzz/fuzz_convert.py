"""atheris target over scripts/convert_checkpoint.py's reader
(scripts/ci/fuzz-checkpoints.sh runs it): from each input, the safetensors
parse and the checkpoint's checks. Anything but a refusal (Refused, which
the command prints in one line) is a finding: a traceback the user would
have seen. The conversion to torch that follows the checks is exercised by
Tests/Convert, not here (torch's own code is not the subject)."""
import os
import sys

import atheris

with atheris.instrument_imports():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
    import convert_checkpoint as C


def test_one_input(data):
    try:
        tensors, meta = C.parse_safetensors(data)
        C.checkpoint(tensors, meta)
    except C.Refused:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
