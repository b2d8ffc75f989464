import AdamPKit
import BenchSupport
import Foundation

/// `--contention`: the optimizers take turns step by step, first on a quiet
/// machine, then with one CPU-bound process running beside them (as data
/// loading, a framework's own threads or another job would). Threads that
/// wait for one the other process has descheduled make a step with many
/// phases slower than one with few: this shows how much.
enum Contention {
    static func run(shapes: [[Int]], model: String, o: Options) throws {
        let names = o.optimizers
        let subjects = try names.map { try Subject<Float>($0, shapes: shapes, model: model, o: o) }
        let threads = o.threadCount
        note("adamp-bench --contention: \(names.joined(separator: ", ")) on \(model), \(threads) threads, "
             + "\(o.gradients.rawValue) gradients, taking turns; quiet, then beside a busy process")
        func measure() throws -> ([(median: Double, min: Double, q1: Double, q3: Double)], [ProjectionTally]) {
            var tallies = names.map { _ in ProjectionTally() }
            let times = try timeInterleaved(steps: o.steps, warmup: o.warmup,
                                            subjects.map { s in { try s.optimizer.step() } },
                                            prepare: { subjects.forEach { $0.prepare() } },
                                            timed: { for k in subjects.indices { tallies[k].add(subjects[k].optimizer, subjects[k].params) } })
            return (times, tallies)
        }
        let (quiet, tallies) = try measure()
        let busy = Process()
        busy.executableURL = URL(fileURLWithPath: "/bin/sh")
        busy.arguments = ["-c", "while :; do :; done"]
        try busy.run()
        defer { busy.terminate(); busy.waitUntilExit() }
        Thread.sleep(forTimeInterval: 0.5)
        let (loaded, _) = try measure()

        // Quartiles, not the minimum: beside a busy process a step that waits
        // for a descheduled thread waits about a scheduling tick (4 ms on
        // the machine measured), so its times spread in steps of one.
        print("\(model): \(shapes.count) tensors, \(threads) threads; medians (quartiles) of \(o.steps) steps each, taking turns")
        print("optimizer   quiet ms (q1-q3)       busy ms (q1-q3)      busy/quiet   projections (quiet run)")
        for (k, name) in names.enumerated() {
            print(name.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: "%8.2f (%5.2f-%5.2f) %8.2f (%5.2f-%5.2f) %8.2fx   ", quiet[k].median, quiet[k].q1,
                           quiet[k].q3, loaded[k].median, loaded[k].q1, loaded[k].q3, loaded[k].median / quiet[k].median)
                  + tallies[k].description)
        }
        for (a, b) in [("adamp", "adam"), ("sgdp", "sgd")] {
            guard let i = names.firstIndex(of: a), let j = names.firstIndex(of: b) else { continue }
            print(String(format: "%@ / %@: quiet %.2fx, busy %.2fx", a, b, quiet[i].median / quiet[j].median,
                         loaded[i].median / loaded[j].median))
        }
    }
}
