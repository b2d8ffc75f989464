// libFuzzer target over the checkpoint readers of AdamPKit, compiled into the
// module with AdamPKit's sources (scripts/ci/fuzz-checkpoints.sh: swiftc
// -sanitize=fuzzer,address): from each input, the JSON reader alone, then
// the safetensors reader and an optimizer's load(stateDict:), the whole
// checkpoint check. It asserts: no crash or trap (a trap is a finding);
// a refused load changes nothing; a loaded checkpoint saves back to bytes
// that load to the same state, and steps. Seeds: corpus-checkpoints/
// (make_corpus_checkpoints.py: a good checkpoint of this optimizer, and one
// file for each defect issue 28 found in the readers).
import Foundation

/// AdamP over the parameters the seed checkpoints are of: a weight, a bias
/// and one of no elements; in Double, and in BFloat16 with split master
/// weights (float32 state, a uint16 trail: the readers' other paths).
nonisolated(unsafe) private var optimizer: AdamP<Double>?
nonisolated(unsafe) private var initial: [[Double]] = []
nonisolated(unsafe) private var split: AdamP<BFloat16>?
nonisolated(unsafe) private var splitInitial: [[BFloat16]] = []

private func parameters<S: AdamPScalar>(_: S.Type) -> [Parameter<S>] {
    [try! Parameter<S>(shape: [3, 4], values: (0..<12).map { S($0) - 5 }, name: "w"),
     try! Parameter<S>(shape: [4], values: [1, 2, 3, 4], name: "b"), Parameter<S>(shape: [0, 3], name: "e")]
}

private func target() -> AdamP<Double> {
    if let o = optimizer { return o }
    let o = try! AdamP(parameters: parameters(Double.self), learningRate: 0.01)
    optimizer = o
    initial = o.parameters.map(\.values)
    return o
}

private func splitTarget() -> AdamP<BFloat16> {
    if let o = split { return o }
    let o = try! AdamP(parameters: parameters(BFloat16.self), learningRate: 0.01, masterWeights: .split)
    split = o
    splitInitial = o.parameters.map(\.values)
    return o
}

private func require(_ ok: Bool, _ what: String) {
    if !ok {
        FileHandle.standardError.write(Data("fuzz_checkpoint: \(what)\n".utf8))
        abort()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    _ = try? JSON.parse(Array(bytes))
    guard let sd = try? StateDict(safetensors: bytes) else { return 0 }
    check(target(), sd, initial)
    check(splitTarget(), sd, splitInitial)
    return 0
}

private func check<S: AdamPScalar>(_ opt: AdamP<S>, _ sd: StateDict, _ initial: [[S]]) {
    let before = opt.stateDict()
    do {
        try opt.load(stateDict: sd)
    } catch {
        require(opt.stateDict() == before, "a refused load changed the state: \(error)")
        return
    }
    // What loaded saves, and loads back to the same state; and it steps.
    let saved = opt.stateDict()
    let again = try? StateDict(safetensors: saved.safetensors())
    require(again == saved, "a loaded state does not survive its own save")
    for p in opt.parameters { p.grad = [S](repeating: 0.25, count: p.count) }
    do { try opt.step() } catch OptimizerError.stepCountLimit(_) {} catch {
        require(false, "a loaded state does not step: \(error)")
    }
    try? opt.load(stateDict: before)
    for (p, v) in zip(opt.parameters, initial) { try? p.setValues(v) }
}
