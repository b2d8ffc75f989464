#!/usr/bin/env bash
# A package that depends on this one by version (`from:`), as Swift ML code
# would, must resolve, build, import AdamPKit and step AdamP. SwiftPM refuses
# such a dependency on a product with unsafeFlags, so this guards that too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A tagged snapshot of the working tree (committed or not) to depend on.
mkdir -p "$work/dep" && (cd "$root" && git ls-files --cached --others --exclude-standard | tar -cf - -T - | tar -xf - -C "$work/dep")
git -C "$work/dep" init -q && git -C "$work/dep" add -A
git -C "$work/dep" -c user.name=ci -c user.email=ci@localhost commit -qm snapshot
git -C "$work/dep" tag 1.0.0
mkdir -p "$work/app/Sources/app"
cat > "$work/app/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "app",
    dependencies: [.package(url: "file://$work/dep", from: "1.0.0")],
    targets: [.executableTarget(name: "app", dependencies: [.product(name: "AdamPKit", package: "dep")])]
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
(cd "$work/app" && swift build -q && swift run -q app)
