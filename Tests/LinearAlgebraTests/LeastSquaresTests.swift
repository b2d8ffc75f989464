#if BLAS
import Foundation
import Testing
import AdamPKit
import COpenBLAS
import CLAPACKE
import SeededRandom

/// Every optimizer of the package reaches the exact minimiser of a
/// least-squares problem, min ‖Ax − b‖² / m, which LAPACKE's dgels gives
/// (a QR factorisation): the gradient 2Aᵀ(Ax − b)/m is computed with
/// OpenBLAS (dgemv). The Adams need their learning rate annealed to reach
/// it (a constant rate leaves them circling the minimum at its scale); the
/// SGDs converge linearly with a constant one. All end within 1e-12 of x*
/// relative to its norm (measured: 6e-16, a few ulps, after 3,000 steps).
@Suite struct LeastSquaresTests {
    static let m = 64, n = 16

    /// A and b from a fixed seed (A column-major), and LAPACKE's x*.
    static func problem() -> (a: [Double], b: [Double], x: [Double]) {
        var rng = SplitMix(state: 42)
        let a = (0..<(m * n)).map { _ in rng.normal() }, b = (0..<m).map { _ in rng.normal() }
        var qr = a, rhs = b
        let info = LAPACKE_dgels(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(m), Int32(n), 1, &qr, Int32(m), &rhs, Int32(m))
        precondition(info == 0, "dgels: \(info)")
        return (a, b, Array(rhs[0..<n]))
    }

    /// g = 2/m · Aᵀ(Ax − b), with two dgemv.
    static func gradient(_ a: [Double], _ b: [Double], _ x: [Double]) -> [Double] {
        var r = b
        cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(m), x, 1, -1, &r, 1) // r = Ax - b
        var g = [Double](repeating: 0, count: n)
        cblas_dgemv(CblasColMajor, CblasTrans, Int32(m), Int32(n), 2 / Double(m), a, Int32(m), r, 1, 0, &g, 1)
        return g
    }

    static let steps = 3000
    static let tolerance = 1e-12

    @Test(arguments: ["sgd", "sgdp", "adam", "adamw", "adamp"])
    func reachesTheMinimiser(_ name: String) throws {
        let (a, b, exact) = Self.problem()
        let x = Parameter<Double>(shape: [Self.n], name: "x")
        let opt: any Optimizer<Double>
        switch name {
        case "sgd": opt = try SGD(parameters: [x], learningRate: 0.1, momentum: 0.9)
        case "sgdp": opt = try SGDP(parameters: [x], learningRate: 0.1, momentum: 0.9)
        case "adam": opt = try Adam(parameters: [x], learningRate: 0.05)
        case "adamw": opt = try AdamW(parameters: [x], learningRate: 0.05, weightDecay: 0)
        default: opt = try AdamP(parameters: [x], learningRate: 0.05)
        }
        let schedule: (any LRScheduler)? = name.hasPrefix("sgd") ? nil : try CosineAnnealingLR(optimizer: opt, tMax: Self.steps)
        for _ in 0..<Self.steps {
            x.grad = Self.gradient(a, b, x.values)
            try opt.step()
            try schedule?.step()
        }
        let err = zip(x.values, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let size = exact.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(err / size < Self.tolerance, "\(name): relative distance to LAPACKE's minimiser \(err / size)")
        print("least squares, \(name): relative distance to dgels' x* after \(Self.steps) steps: \(err / size)")
    }
}
#endif
