import AdamPKit
import Foundation

/// `--contention`: the optimizers take turns step by step, first on a quiet
/// machine, then with one CPU-bound process running beside them (as data
/// loading, a framework's own threads or another job would). Threads that
/// spin at a barrier while another process holds a core make a
/// barrier-heavy step several times slower: this shows how much.
enum Contention {
    static func run(shapes: [[Int]], model: String, o: Options) throws {
        let marked = Gradients.normalised(model: model, shapes: shapes)
        let names = o.optimizers
        let sets = names.map { _ in shapes.map { Parameter<Float>(shape: $0) } }
        sets.forEach(Gradients.fill)
        let opts = try zip(names, sets).map { name, ps in
            let opt = try Benchmarked.all[name]!.make(ps)
            try opt.setKernelOptions(KernelOptions(isa: o.isa, threads: o.threads, blockSize: o.block))
            return opt
        }
        let threads = o.threads > 0 ? o.threads : KernelOptions.defaultThreads
        note("adamp-bench --contention: \(names.joined(separator: ", ")) on \(model), \(threads) threads, "
             + "\(o.gradients.rawValue) gradients, taking turns; quiet, then beside a busy process")
        func measure() throws -> ([(median: Double, min: Double)], [ProjectionTally]) {
            var tallies = names.map { _ in ProjectionTally() }
            let times = try timeInterleaved(steps: o.steps, warmup: o.warmup, opts.map { opt in { try opt.step() } },
                prepare: { if o.gradients == .orthogonal { sets.forEach { Gradients.orthogonalise($0, marked) } } },
                timed: { for k in opts.indices { tallies[k].add(opts[k], sets[k]) } })
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

        print("\(model): \(shapes.count) tensors, \(threads) threads; medians (min) of \(o.steps) steps each, taking turns")
        print("optimizer     quiet ms        busy ms   busy/quiet   projections (quiet run)")
        for (k, name) in names.enumerated() {
            print(name.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: "%8.2f (%5.2f) %8.2f (%5.2f) %8.2fx   ", quiet[k].median, quiet[k].min,
                           loaded[k].median, loaded[k].min, loaded[k].median / quiet[k].median)
                  + tallies[k].description)
        }
        for (a, b) in [("adamp", "adam"), ("sgdp", "sgd")] {
            guard let i = names.firstIndex(of: a), let j = names.firstIndex(of: b) else { continue }
            print(String(format: "%@ / %@: quiet %.2fx, busy %.2fx", a, b, quiet[i].median / quiet[j].median,
                         loaded[i].median / loaded[j].median))
        }
    }
}
