import AdamPKit
import BenchSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--idle`: the CPU the process burns while it should be idle, in the 50 ms
/// after each step. The OpenMP runtime's worker threads spin for a while after
/// a parallel region before they sleep (libgomp: GOMP_SPINCOUNT, 300,000
/// rounds by default); in training that time is taken from whatever runs next
/// on the CPU (the forward pass, data loading). `OMP_WAIT_POLICY=passive`
/// makes them sleep at once; the library cannot choose for the process, as
/// the runtime reads it when it loads.
enum Idle {
    static let pause = 0.05

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
    }

    static func run(shapes: [[Int]], model: String, o: Options) throws {
        let policy = ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "unset"
        print("\(model): \(o.threadCount) threads, OMP_WAIT_POLICY \(policy); CPU burned in the \(Int(pause * 1000)) ms "
              + "after each step, median (max) of \(o.steps) steps")
        for name in o.optimizers {
            let s = try Subject<Float>(name, shapes: shapes, model: model, o: o)
            for _ in 0..<o.warmup { s.prepare(); try s.optimizer.step() }
            var burned: [Double] = []
            for _ in 0..<o.steps {
                s.prepare()
                try s.optimizer.step()
                let c0 = cpuSeconds()
                Thread.sleep(forTimeInterval: pause)
                burned.append((cpuSeconds() - c0) * 1e3)
            }
            let sorted = burned.sorted()
            print(name.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: "%6.2f ms (%.2f)", sorted[sorted.count / 2], sorted.last!))
        }
    }
}
