#!/usr/bin/env python3
"""The checkpoint converter, `python -m cadamp.convert`, from a clone without
cadamp installed: runs Bindings/python/cadamp/convert.py (needs torch only),
and imported, is that module. Usage as the module's:

  python scripts/convert_checkpoint.py to-torch   OURS.safetensors OUT.pt
  python scripts/convert_checkpoint.py from-torch STATE_DICT.pt    OUT.safetensors
"""
import importlib.util
import os
import sys

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Bindings", "python", "cadamp", "convert.py")
_spec = importlib.util.spec_from_file_location("cadamp_convert", _path)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)   # not through cadamp/__init__, which loads the C library

if __name__ == "__main__":
    _module.main()
else:
    sys.modules[__name__] = _module
