#if BLAS
import COpenBLAS
import CLAPACKE
import AdamPKit
import Foundation
import SeededRandom

/// A row-major Float matrix that owns its memory: the demo's activations,
/// weights and gradients (weights are lent to `Parameter`s without a copy).
final class Matrix {
    let rows: Int, cols: Int
    let base: UnsafeMutablePointer<Float>
    var count: Int { rows * cols }
    var buffer: UnsafeMutableBufferPointer<Float> { .init(start: base, count: count) }

    init(_ rows: Int, _ cols: Int) {
        self.rows = rows
        self.cols = cols
        base = .allocate(capacity: max(1, rows * cols))
        base.initialize(repeating: 0, count: rows * cols)
    }
    deinit { base.deallocate() }

    subscript(r: Int) -> UnsafeMutablePointer<Float> { base + r * cols }
}

/// Wall-clock seconds, for the epoch's time split.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// `C[m, n] = op(A)·op(B) (+ C if accumulate)`, row-major, by OpenBLAS's
/// `cblas_sgemm`; `seconds` collects the time spent in BLAS.
func gemm(_ a: UnsafePointer<Float>, transposed ta: Bool, _ b: UnsafePointer<Float>, transposed tb: Bool,
          into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, seconds: inout Double) {
    let t0 = now()
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), 1,
                a, blasint(ta ? m : k), b, blasint(tb ? k : n), 0, c, blasint(n))
    seconds += now() - t0
}

/// OpenBLAS's `cblas_sbgemm` (bfloat16 operands, float32 sums and result),
/// if the OpenBLAS loaded has it: its header always declares it, but builds
/// without BUILD_BFLOAT16 (Debian's 0.3.21) do not export it.
typealias SBGEMM = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, Float,
                                   UnsafePointer<UInt16>?, blasint, UnsafePointer<UInt16>?, blasint, Float,
                                   UnsafeMutablePointer<Float>?, blasint) -> Void
let openBLASSBGEMM: SBGEMM? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "cblas_sbgemm").map { unsafeBitCast($0, to: SBGEMM.self) }

/// `gemm` of bfloat16 operands by `cblas_sbgemm`.
func sbgemm(_ f: SBGEMM, _ a: UnsafePointer<BFloat16>, transposed ta: Bool, _ b: UnsafePointer<BFloat16>, transposed tb: Bool,
            into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, seconds: inout Double) {
    let t0 = now()
    a.withMemoryRebound(to: UInt16.self, capacity: m * k) { a in
        b.withMemoryRebound(to: UInt16.self, capacity: k * n) { b in
            f(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              blasint(m), blasint(n), blasint(k), 1, a, blasint(ta ? m : k), b, blasint(tb ? k : n), 0, c, blasint(n))
        }
    }
    seconds += now() - t0
}

/// Fills `w` ([rows, cols]) with a random orthogonal matrix, as
/// `torch.nn.init.orthogonal_`: the Q of a Gaussian matrix's QR factorisation
/// (LAPACKE `sgeqrf` + `sorgqr`), its columns' signs those of R's diagonal,
/// so Q is uniformly distributed; transposed when `rows < cols`. The rows
/// (or columns, whichever are fewer) are orthonormal.
func orthogonalInit(_ w: Matrix, rng: inout SplitMix) throws {
    let m = max(w.rows, w.cols), n = min(w.rows, w.cols)
    var a = (0..<m * n).map { _ in Float(rng.gaussian()) }
    var tau = [Float](repeating: 0, count: n)
    var info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), &a, Int32(n), &tau)
    guard info == 0 else { throw DemoError.lapack(function: "LAPACKE_sgeqrf", info: Int(info)) }
    let signs = (0..<n).map { a[$0 * n + $0] < 0 ? Float(-1) : 1 }
    info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), &a, Int32(n), &tau)
    guard info == 0 else { throw DemoError.lapack(function: "LAPACKE_sorgqr", info: Int(info)) }
    for i in 0..<m {
        for j in 0..<n {
            let q = a[i * n + j] * signs[j]
            if w.rows >= w.cols { w[i][j] = q } else { w[j][i] = q }
        }
    }
}


/// The OpenBLAS the process loaded, and a warning when its threads and the
/// optimizer's will fight: OpenBLAS's pthreads build keeps its own threads,
/// and they and the OpenMP runtime's (the optimizer's) each spin for a while
/// after their work, taking the cores the other needs next. Measured here
/// (2 cores, this demo): epochs 3-4x slower than with OpenBLAS's OpenMP
/// build, which shares the one OpenMP thread pool.
public enum BLASInfo {
    public static var description: String {
        let build = ["sequential", "pthreads", "OpenMP"][Int(max(0, min(2, openblas_get_parallel())))]
        return "OpenBLAS (\(build) build, \(String(cString: openblas_get_corename())))"
    }

    /// How a bf16 network's products run here.
    public static var bf16Products: String {
        openBLASSBGEMM != nil ? "cblas_sbgemm"
            : "cblas_sgemm on operands rounded to bfloat16 (the same products: this OpenBLAS has no cblas_sbgemm)"
    }

    /// Sets OpenBLAS's threads (in its OpenMP build, the OpenMP runtime's
    /// default for the process too).
    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    public static var threadWarning: String? {
        guard openblas_get_parallel() == 1, ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] == nil else { return nil }
        return """
        note: this OpenBLAS is its pthreads build. Its threads and the optimizer's OpenMP
        threads spin against each other (measured here: epochs 3-4x slower). Use its OpenMP
        build (Debian: libopenblas-openmp-dev; update-alternatives --config
        libopenblas.so.0-x86_64-linux-gnu) or set OMP_WAIT_POLICY=passive. docs/performance.md, "Between steps".
        """
    }
}
#endif
