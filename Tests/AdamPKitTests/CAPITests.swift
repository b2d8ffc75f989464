import AdamPKit
import Testing
import CAdamP
import SeededRandom

/// Owns the buffers of a batch of tensors for calling the C API directly.
final class CBatch {
    let shapes: [(rows: Int, cols: Int, ndim: Int32)] = [(6, 36, 2), (1, 33, 1), (4, 50, 2), (3, 1, 4)]
    let p: [UnsafeMutableBufferPointer<Float>], g: [UnsafeMutableBufferPointer<Float>]
    let m: [UnsafeMutableBufferPointer<Float>], v: [UnsafeMutableBufferPointer<Float>]
    let h = UnsafeMutablePointer<adamp_hparams>.allocate(capacity: 1)
    let tensors: UnsafeMutableBufferPointer<adamp_tensor>
    var stats: [Double]

    init(seed: UInt64) {
        var rng = SplitMix(state: seed)
        func buffer(_ values: [Float]) -> UnsafeMutableBufferPointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = b.initialize(from: values)
            return b
        }
        let initial = shapes.map { s in (0..<(s.rows * s.cols)).map { _ in rng.normal() } }
        p = initial.map { buffer($0.map { Float($0) }) }
        g = zip(shapes, initial).enumerated().map { i, sp in
            buffer(makeGradient(([.channel, .random, .layer, .random] as [GradientKind])[i], p: sp.1, shape: [sp.0.rows, sp.0.cols], rng: &rng).map { Float($0) })
        }
        m = initial.map { buffer([Float](repeating: 0, count: $0.count)) }
        v = initial.map { buffer([Float](repeating: 0, count: $0.count)) }
        var hp = adamp_hparams() // fields by name: the struct is the C library's list
        (hp.lr, hp.beta1, hp.beta2, hp.momentum, hp.eps, hp.weight_decay, hp.delta, hp.wd_ratio) =
            (0.01, 0.9, 0.999, 0.9, 1e-8, 0.01, 0.1, 0.1)
        h.initialize(to: hp)
        tensors = .allocate(capacity: shapes.count)
        for i in shapes.indices {
            tensors[i] = adamp_tensor(param: UnsafeMutableRawPointer(p[i].baseAddress!), grad: UnsafeRawPointer(g[i].baseAddress!),
                                      state0: UnsafeMutableRawPointer(m[i].baseAddress!),
                                      state1: UnsafeMutableRawPointer(v[i].baseAddress!), state2: nil, hparams: UnsafePointer(h),
                                      rows: shapes[i].rows, cols: shapes[i].cols, ndim: shapes[i].ndim, projection: 0, step: 0)
        }
        stats = [Double](repeating: 0, count: adamp_stats_len(tensors.baseAddress, shapes.count))
    }

    deinit {
        for b in p + g + m + v { b.deallocate() }
        h.deallocate()
        tensors.deallocate()
    }

    var t: UnsafeMutablePointer<adamp_tensor> { tensors.baseAddress! }
    var n: Int { shapes.count }
    var values: [[Float]] { (p + m + v).map(Array.init) }
    var codes: [Int32] { tensors.map(\.projection) }
}

@Suite struct CAPITests {
    /// The public phases, run one by one (as a sharded optimizer would, with
    /// an all-reduce of the stats in between), give exactly what adamp_step gives.
    @Test(arguments: [ADAMP_ALGO_ADAMP, ADAMP_ALGO_SGDP])
    func phasesComposeToStep(algo: adamp_algorithm) {
        let a = CBatch(seed: 11), b = CBatch(seed: 11)
        var seen = Set<Int32>()
        for _ in 0..<3 {
            #expect(adamp_step(nil, algo, ADAMP_F32, a.t, a.n, &a.stats, a.stats.count) == ADAMP_OK)
            #expect(adamp_row_stats(nil, ADAMP_F32, b.t, b.n, &b.stats, b.stats.count) == ADAMP_OK)
            #expect(adamp_decide(algo, ADAMP_F32, b.t, b.n, &b.stats, b.stats.count) == ADAMP_OK)
            #expect(b.codes == a.codes)
            #expect(adamp_apply(nil, algo, ADAMP_F32, b.t, b.n, &b.stats, b.stats.count) == ADAMP_OK)
            seen.formUnion(a.codes)
        }
        #expect(a.values == b.values)
        #expect(seen.isSuperset(of: [0, 1, 2]), "branches reached: \(seen)")
    }

    @Test func applyRejectsInconsistentProjectionCodes() {
        let batch = CBatch(seed: 3)
        let before = batch.values
        batch.t[1].projection = ADAMP_PROJ_CHANNEL.rawValue // a 1-D tensor cannot be projected
        #expect(adamp_apply(nil, ADAMP_ALGO_ADAMP, ADAMP_F32, batch.t, batch.n, &batch.stats, batch.stats.count) == ADAMP_E_INVALID_ENUM)
        batch.t[1].projection = 7
        #expect(adamp_apply(nil, ADAMP_ALGO_ADAMP, ADAMP_F32, batch.t, batch.n, &batch.stats, batch.stats.count) == ADAMP_E_INVALID_ENUM)
        #expect(adamp_row_stats(nil, ADAMP_F32, batch.t, batch.n, &batch.stats, 3) == ADAMP_E_STATS_TOO_SMALL)
        #expect(batch.values == before && batch.t[0].step == 0)
    }

    @Test func hparamsCheckNamesTheField() {
        var h = adamp_hparams()
        (h.lr, h.beta1, h.beta2, h.momentum, h.eps, h.delta, h.wd_ratio) = (0.1, 0.9, 0.999, 1.0, 1e-8, 0.1, 0.1)
        var field = ADAMP_FIELD_NONE
        #expect(adamp_hparams_check(ADAMP_ALGO_ADAMP, &h, &field, nil) == ADAMP_OK) // momentum unused by AdamP
        #expect(adamp_hparams_check(ADAMP_ALGO_SGDP, &h, &field, nil) == ADAMP_E_INVALID_HPARAM)
        #expect(field == ADAMP_FIELD_MOMENTUM)
        #expect(adamp_hparams_check(ADAMP_ALGO_SGDP, nil, &field, nil) == ADAMP_E_NULL_POINTER)
    }
}

@Suite struct CAPIBaselineTests {
    /// Adam, AdamW and SGD read no statistics: NULL stats are enough, apply
    /// alone equals step, and every tensor reports no projection.
    @Test(arguments: [ADAMP_ALGO_ADAM, ADAMP_ALGO_ADAMW, ADAMP_ALGO_SGD])
    func baselinesNeedNoStats(algo: adamp_algorithm) {
        let a = CBatch(seed: 5), b = CBatch(seed: 5)
        let before = a.values
        for _ in 0..<3 {
            #expect(adamp_step(nil, algo, ADAMP_F32, a.t, a.n, nil, 0) == ADAMP_OK)
            #expect(adamp_decide(algo, ADAMP_F32, b.t, b.n, nil, 0) == ADAMP_OK)
            b.t[2].projection = 7 // ignored: these algorithms decide for themselves
            #expect(adamp_apply(nil, algo, ADAMP_F32, b.t, b.n, nil, 0) == ADAMP_OK)
            #expect(a.codes == [0, 0, 0, 0] && b.codes == a.codes)
        }
        #expect(a.values == b.values && a.values != before)
        #expect(a.t[0].step == 3)
    }

    @Test func amsgradNeedsItsBuffer() {
        let batch = CBatch(seed: 2)
        let before = batch.values
        var h = batch.t[0].hparams.pointee
        h.amsgrad = 1
        withUnsafePointer(to: &h) { hp in
            batch.t[0].hparams = hp
            #expect(adamp_step(nil, ADAMP_ALGO_ADAM, ADAMP_F32, batch.t, batch.n, nil, 0) == ADAMP_E_NULL_POINTER)
        }
        #expect(batch.values == before && batch.t[1].step == 0)
    }
}
