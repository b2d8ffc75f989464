#!/usr/bin/env bash
# Prints a value of CKernels/build.conf (the C library's one build
# description), its paths made relative to the repository and globs
# expanded: scripts/ci/build-conf.sh ADAMP_SOURCES.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
value=$(sed -n "s/^$1 *= *//p" "$root/CKernels/build.conf")
[ -n "$value" ] || { echo "build-conf: no $1 in CKernels/build.conf" >&2; exit 1; }
out=()
for word in $value; do
    case "$word" in
    -*) out+=("$word") ;;
    *) for p in "$root"/CKernels/$word; do out+=("${p#"$root"/}"); done ;;
    esac
done
echo "${out[*]}"
