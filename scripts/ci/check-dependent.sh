#!/usr/bin/env bash
# A package that depends on this one by version (`from:`), as Swift ML code
# would, must resolve, build, import AdamPKit and step AdamP. SwiftPM refuses
# such a dependency on a product with unsafeFlags, so this guards that too.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A tagged snapshot of the working tree (committed or not) to depend on, in a
# folder named as a clone would be (a by-version identity is its URL's name).
dep="$work/swift-adamp"
mkdir -p "$dep" && (cd "$root" && git ls-files --cached --others --exclude-standard | tar -cf - -T - | tar -xf - -C "$dep")
git -C "$dep" init -q && git -C "$dep" add -A
git -C "$dep" -c user.name=ci -c user.email=ci@localhost commit -qm snapshot
# Tagged as the version the package is (adamp.h's), as a release would be.
version=$(for part in MAJOR MINOR PATCH; do sed -n "s/^#define ADAMP_VERSION_$part \([0-9]*\)$/\1/p" "$root/CKernels/include/adamp.h"; done | paste -sd.)
git -C "$dep" tag "$version"
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
    ]
)
SWIFT
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
# AdamPDistributed by version too (the docs' examples, by path, are
# scripts/ci/check-snippets.py's).
mkdir -p "$work/app/Sources/sharded"
cat > "$work/app/Sources/sharded/main.swift" <<'SWIFT'
import AdamPDistributed
import AdamPKit
let world = try Communicator.world()
let w = Parameter<Float>(shape: [64, 8])
let opt = try ShardedOptimizer(parameters: [w], communicator: world) { shard in try AdamP(parameters: [shard(w)]) }
w.grad = [Float](repeating: 0.01, count: w.count)
try opt.step()
print("rank \(world.rank) of \(world.size): \(opt.stateBytes.rank) of \(opt.stateBytes.unsharded) state bytes")
SWIFT
(cd "$work/app" && swift build -q && swift run -q app)
bin=$(cd "$work/app" && swift build --show-bin-path)
# By path, from a clone in a folder of any name (`name:` names the package for
# `package:`, which would otherwise be the folder's name); a package that uses
# AdamPKit alone neither compiles nor links anything of MPI or OpenBLAS.
mv "$dep" "$work/my-adamp-clone"
mkdir -p "$work/by-path/Sources/app" && cp "$work/app/Sources/app/main.swift" "$work/by-path/Sources/app/"
cat > "$work/by-path/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "app",
    dependencies: [.package(name: "swift-adamp", path: "../my-adamp-clone")],
    targets: [.executableTarget(name: "app", dependencies: [.product(name: "AdamPKit", package: "swift-adamp")])]
)
SWIFT
(cd "$work/by-path" && swift build -q && swift run -q app >/dev/null)
built=$(find -L "$work/by-path/.build/debug" -name '*.o' | grep -E 'MPI|Distributed|Demo|bench|BLAS|LAPACK' || true)
if [ -n "$built" ]; then
    echo "$built" >&2
    echo "check-dependent: building AdamPKit alone built the above" >&2; exit 1
fi
alone=$(cd "$work/by-path" && swift build --show-bin-path)/app
if ldd "$alone" | grep -Ei "mpi|blas|lapack" >/dev/null; then echo "check-dependent: AdamPKit alone links MPI or BLAS:" >&2; ldd "$alone" >&2; exit 1; fi
echo "dependent package by path, from a folder named my-adamp-clone: AdamP stepped; nothing of MPI or BLAS built or linked"
mpi=(mpirun --oversubscribe --timeout 120)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
out=$(cd "$work/app" && "${mpi[@]}" -np 2 "$bin/sharded")
[ "$(grep -c "^rank [01] of 2: " <<<"$out")" -eq 2 ] ||
    { echo "check-dependent: AdamPDistributed by version:" >&2; echo "$out" >&2; exit 1; }
echo "dependent package: AdamPDistributed stepped on 2 ranks: $(head -1 <<<"$out")"

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
