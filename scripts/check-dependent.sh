#!/usr/bin/env bash
# A package that depends on this one by version (`from:`), as Swift ML code
# would, must resolve, build, import AdamPKit and step AdamP. SwiftPM refuses
# such a dependency on a product with unsafeFlags, so this guards that too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A tagged snapshot of the working tree (committed or not) to depend on, in a
# folder named as the README's examples expect a clone to be.
dep="$work/swift-adamp"
mkdir -p "$dep" && (cd "$root" && git ls-files --cached --others --exclude-standard | tar -cf - -T - | tar -xf - -C "$dep")
git -C "$dep" init -q && git -C "$dep" add -A
git -C "$dep" -c user.name=ci -c user.email=ci@localhost commit -qm snapshot
# Tagged as the version the package is (adamp.h's), as a release would be.
version=$(for part in MAJOR MINOR PATCH; do sed -n "s/^#define ADAMP_VERSION_$part \([0-9]*\)$/\1/p" "$root/CKernels/include/adamp.h"; done | paste -sd.)
git -C "$dep" tag "$version"
# The README's first Swift example as a user follows it: its Package.swift
# (a path dependency on ../swift-adamp) and its program, as written there.
mkdir -p "$work/trainer/Sources/Trainer"
swift_block() { # file n [heading]: the n-th ```swift block of the file (after the heading line, if given)
    awk -v want="$2" -v head="${3:-}" 'head == "" || $0 == head { on = 1 } on && /^```swift/ { n++; code = (n == want); next } code && /^```/ { exit } code' "$1"
}
swift_block "$root/README.md" 1 "## Use from Swift" > "$work/trainer/Package.swift"
swift_block "$root/README.md" 2 "## Use from Swift" > "$work/trainer/Sources/Trainer/main.swift"
grep -q 'path: "../swift-adamp"' "$work/trainer/Package.swift" || { echo "check-dependent: no Package.swift in the README's Use from Swift" >&2; exit 1; }
out=$(cd "$work/trainer" && swift run -q Trainer)
[ "$out" = "$(printf '3\n["exp_avg", "exp_avg_sq"]\nunprojected')" ] ||
    { echo "check-dependent: the README's first Swift example printed:" >&2; echo "$out" >&2; exit 1; }
echo "dependent package: the README's first Swift example built by path and printed what the README says"
mkdir -p "$work/app/Sources/app"
cat > "$work/app/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "app",
    dependencies: [.package(url: "file://$dep", from: "$version")],
    targets: [
        .executableTarget(name: "app", dependencies: [.product(name: "AdamPKit", package: "swift-adamp")]),
        .executableTarget(name: "sharded", dependencies: [.product(name: "AdamPKit", package: "swift-adamp"),
                                                          .product(name: "AdamPDistributed", package: "swift-adamp")]),
        .executableTarget(name: "mixed", dependencies: [.product(name: "AdamPKit", package: "swift-adamp")]),
        .executableTarget(name: "loop", dependencies: [.product(name: "AdamPKit", package: "swift-adamp")]),
        .executableTarget(name: "checkpoints", dependencies: [.product(name: "AdamPKit", package: "swift-adamp")]),
    ]
)
SWIFT
# The sharded optimizer's example (docs/distributed.md), as it is written there.
mkdir -p "$work/app/Sources/sharded"
swift_block "$root/docs/distributed.md" 1 > "$work/app/Sources/sharded/main.swift"
grep -q ShardedOptimizer "$work/app/Sources/sharded/main.swift" || { echo "check-dependent: no example in docs/distributed.md" >&2; exit 1; }
# And the mixed-precision one (docs/mixed-precision.md).
mkdir -p "$work/app/Sources/mixed"
swift_block "$root/docs/mixed-precision.md" 1 > "$work/app/Sources/mixed/main.swift"
grep -q "masterWeights: .split" "$work/app/Sources/mixed/main.swift" || { echo "check-dependent: no example in docs/mixed-precision.md" >&2; exit 1; }
# And those of the training loop and of checkpoints.
for t in loop:training-loop checkpoints:checkpoints; do
    mkdir -p "$work/app/Sources/${t%%:*}"
    swift_block "$root/docs/${t#*:}.md" 1 > "$work/app/Sources/${t%%:*}/main.swift"
    grep -q "import AdamPKit" "$work/app/Sources/${t%%:*}/main.swift" || { echo "check-dependent: no example in docs/${t#*:}.md" >&2; exit 1; }
done
cat > "$work/app/Sources/app/main.swift" <<'SWIFT'
import AdamPKit
let w = try Parameter<Float>(shape: [2, 2], values: [1, 0, 0, 1])
w.grad = [0.1, 0.2, 0.3, 0.4]
let opt = try AdamP(parameters: [w], learningRate: 1e-3)
try opt.step()
precondition(opt.stepCount(for: w) == 1 && w.values != [1, 0, 0, 1])
print("dependent package: AdamP stepped, w = \(w.values)")
// The baselines through the one protocol.
let others: [any Optimizer<Float>] = [try Adam(parameters: [w]), try AdamW(parameters: [w]),
                                      try SGD(parameters: [w], learningRate: 0.1, momentum: 0.9), try SGDP(parameters: [w], learningRate: 0.1)]
for o in others { try o.step(); precondition(o.stepCount(for: w) == 1) }
print("dependent package: Adam, AdamW, SGD, SGDP stepped")
SWIFT
(cd "$work/app" && swift build -q && swift run -q app)
(cd "$work/app" && rm -f opt.safetensors && swift run -q mixed && grep -q master_trail opt.safetensors) ||
    { echo "check-dependent: docs/mixed-precision.md's example did not save its split master" >&2; exit 1; }
echo "dependent package: docs/mixed-precision.md's example stepped and saved"
(cd "$work/app" && swift run -q loop >/dev/null) || { echo "check-dependent: docs/training-loop.md's example failed" >&2; exit 1; }
(cd "$work/app" && rm -rf run && swift run -q checkpoints >/dev/null && swift run -q checkpoints >/dev/null && [ -s run/optimizer.safetensors ]) ||
    { echo "check-dependent: docs/checkpoints.md's example did not save and resume" >&2; exit 1; }
echo "dependent package: docs/training-loop.md's and docs/checkpoints.md's examples ran (the second run resuming)"
# A package that uses AdamPKit alone neither compiles nor links anything of
# MPI or OpenBLAS (built alone, in a build folder of its own).
(cd "$work/app" && swift build -q --product app --scratch-path "$work/bare")
built=$(find -L "$work/bare/debug" -name '*.o' | grep -E 'MPI|Distributed|Demo|bench' || true)
if [ -n "$built" ]; then
    echo "$built" >&2
    echo "check-dependent: building AdamPKit alone built the above" >&2; exit 1
fi
bin=$(cd "$work/app" && swift build --show-bin-path)
if ldd "$bin/app" | grep mpi >/dev/null; then echo "check-dependent: AdamPKit alone links MPI:" >&2; ldd "$bin/app" >&2; exit 1; fi
mpi=(mpirun --oversubscribe --timeout 120)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
out=$(cd "$work/app" && "${mpi[@]}" -np 2 "$bin/sharded")
[ "$(grep -c "^rank [01] of 2: " <<<"$out")" -eq 2 ] && [ -s "$work/app/optimizer.safetensors" ] ||
    { echo "check-dependent: docs/distributed.md's example:" >&2; echo "$out" >&2; exit 1; }
echo "dependent package: docs/distributed.md's example ran on 2 ranks: $(head -1 <<<"$out")"

# The threading rule (Sources/AdamPKit/Concurrency.swift) as Swift 6's checker
# enforces it for a dependent: stepping one optimizer from a detached task
# while this one steps it too, or treating a Parameter as Sendable, must not
# compile.
# Each must fail to compile with its error (one file each: a type error stops
# the compiler before the data-race analysis runs).
reject() {
    printf 'import AdamPKit\n%s\n' "$2" > "$work/reject.swift"
    if out=$(swiftc -emit-sil -o /dev/null -swift-version 6 -I "$bin/Modules" \
             -Xcc -fmodule-map-file="$bin/CAdamP.build/module.modulemap" \
             -Xcc -fmodule-map-file="$bin/CSHA256.build/module.modulemap" "$work/reject.swift" 2>&1); then
        echo "check-dependent: this compiled, and must not:" >&2; cat "$work/reject.swift" >&2; exit 1
    fi
    grep -q "$1" <<<"$out" || { echo "check-dependent: expected \"$1\" from:" >&2; echo "$out" >&2; exit 1; }
}
reject "risks causing data races" '
func race() async throws {
    let w = Parameter<Float>(shape: [2])
    let opt = try AdamP(parameters: [w])
    let task = Task.detached { try opt.step() }
    try opt.step()
    try await task.value
}'
reject "conformance of .Parameter<Scalar>. to .Sendable. is unavailable" '
func shared(_ w: Parameter<Float>) -> any Sendable { w }'
reject "conformance of .SGD<Scalar>. to .Sendable. is unavailable" '
func shared(_ o: SGD<Float>) -> any Sendable { o }'
echo "dependent package: Swift 6 rejects sharing an optimizer or a Parameter across tasks"
