#!/usr/bin/env bash
# The PyTorch drop-in (Bindings/python) as a PyTorch user installs it: pip
# install into the venv that setup.sh made (torch's CPU build, the official
# adamp 0.3.0, pytest), then its tests: the shared fixtures replayed, the five
# classes against adamp and torch.optim (groups, closures, schedulers,
# state_dicts both ways, the reference path), one OpenMP runtime. Uses
# $ADAMP_PYTHON, else .venv/bin/python; ADAMP_NO_TORCH=1 skips it, saying so.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py="${ADAMP_PYTHON:-$root/.venv/bin/python}"
if [ -n "${ADAMP_NO_TORCH:-}" ] || ! "$py" -c "import torch, adamp, pytest" >/dev/null 2>&1; then
    echo "python binding: SKIPPED (no Python with torch, adamp and pytest at $py; ADAMP_NO_TORCH=${ADAMP_NO_TORCH:-})"
    exit 0
fi
"$py" -m pip install -q ./Bindings/python
# From the tests' folder, so that the installed package is the one imported.
(cd Bindings/python/tests && "$py" -m pytest -q -p no:cacheprovider .)
