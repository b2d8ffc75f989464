#!/usr/bin/env bash
# The API reference as static HTML, by the toolchain's own docc (no package
# plugin, no network): the compiler's symbol graphs of AdamPKit and
# AdamPDistributed, then `docc convert` of each catalog
# (Sources/AdamPKit/AdamPKit.docc, Distributed/AdamPDistributed/AdamPDistributed.docc)
# into build/docs/<module>. Any warning (a link to a symbol that does not
# exist, an undocumented parameter) fails it. --core: AdamPKit alone (no MPI).
set -euo pipefail
cd "$(dirname "$0")/.."
# An article's examples are copies of the README's and docs/' (which the
# tests build and run): each must be one of them, as written there.
python3 - <<'PY'
import glob, re, sys
block = re.compile(r"```swift\n(.*?)```", re.S)
known = {b for f in ["README.md"] + glob.glob("docs/*.md") for b in block.findall(open(f).read())}
stale = [(f, b.splitlines()[0]) for f in glob.glob("Sources/**/*.docc/*.md", recursive=True) + glob.glob("Distributed/**/*.docc/*.md", recursive=True)
         for b in block.findall(open(f).read()) if b not in known]
for f, first in stale: print(f"build-docs: {f}: an example that is not the README's or docs/' (first line: {first})", file=sys.stderr)
sys.exit(1 if stale else 0)
PY
modules=(AdamPKit AdamPDistributed)
[ "${1:-}" = "--core" ] && modules=(AdamPKit)
docc=$(command -v docc || echo "$(dirname "$(readlink -f "$(command -v swift)")")/docc")
out=build/docs
# The compiler writes a module's graphs when it compiles the module: they are
# kept beside its build, which an unchanged module does not redo.
graphs="$PWD/build/docs-build/symbol-graphs"
mkdir -p "$graphs" "$out"
for m in "${modules[@]}"; do
    swift build -q --scratch-path build/docs-build --target "$m" \
        -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs"
done
for m in "${modules[@]}"; do
    catalog=$(find Sources Distributed -type d -name "$m.docc" | head -1)
    rm -rf "$graphs/$m" && mkdir -p "$graphs/$m"
    shopt -s nullglob; files=("$graphs/$m".symbols.json "$graphs/$m"@*.symbols.json); shopt -u nullglob
    cp "${files[@]}" "$graphs/$m/"
    rm -rf "${out:?}/$m"
    "$docc" convert "$catalog" --additional-symbol-graph-dir "$graphs/$m" --output-path "$out/$m" \
        --transform-for-static-hosting --hosting-base-path "$m" --fallback-display-name "$m" \
        --fallback-bundle-identifier "org.swift-adamp.$m" --warnings-as-errors
    echo "docs: $out/$m/documentation/$(tr '[:upper:]' '[:lower:]' <<<"$m")/index.html"
done
