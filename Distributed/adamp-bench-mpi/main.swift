// adamp-bench-mpi: the sharded optimizer's step on real models' shapes, run
// under `mpirun -np N`, against every rank stepping the whole model (as plain
// data parallelism does), interleaved step by step in the same processes.
#if MPI
import AdamPDistributed
import AdamPKit
import BenchSupport
import Foundation

let usage = """
usage: mpirun -np N adamp-bench-mpi [--model NAME | --shapes FILE.json] [--optimizer adamp|sgdp|adam|adamw|sgd]
                                    [--threads N] [--steps N] [--warmup N] [--gradients orthogonal|random]
models: \(Models.all.keys.sorted().joined(separator: ", ")) (default resnet50)
--threads   per rank (default: the OpenMP default divided by the ranks, at least 1)
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("adamp-bench-mpi: \(message)\n".utf8))
    exit(2)
}

struct Options {
    var model = "resnet50", shapesFile: String?, optimizer = "adamp", threads = 0, steps = 20, warmup = 3
    var gradients = GradientKind.orthogonal
}

func parse(_ args: [String]) -> Options {
    var o = Options()
    var it = args.makeIterator()
    func value(_ flag: String) -> String {
        guard let v = it.next() else { fail("\(flag) needs a value") }
        return v
    }
    func int(_ flag: String, _ range: ClosedRange<Int>) -> Int {
        guard let v = Int(value(flag)), range.contains(v) else { fail("\(flag) needs a whole number in \(range)") }
        return v
    }
    while let a = it.next() {
        switch a {
        case "--model": o.model = value(a)
        case "--shapes": o.shapesFile = value(a)
        case "--optimizer": o.optimizer = value(a)
        case "--threads": o.threads = int(a, 1...1024)
        case "--steps": o.steps = int(a, 1...100_000)
        case "--warmup": o.warmup = int(a, 0...100_000)
        case "--gradients":
            do { o.gradients = try GradientKind(argument: value(a)) } catch { fail("\(error)") }
        case "-h", "--help": print(usage); exit(0)
        default: fail("unknown option \(a)\n\(usage)")
        }
    }
    if o.shapesFile == nil { do { try Models.check(model: o.model) } catch { fail("\(error)") } }
    guard Benchmarked.all[o.optimizer] != nil else { fail("--optimizer \(o.optimizer): unknown (one of \(Benchmarked.names.joined(separator: ", ")))") }
    return o
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let world: Communicator
do { world = try Communicator.world() } catch { fail("\(error)") }
let threads = options.threads > 0 ? options.threads : max(1, KernelOptions.defaultThreads / world.size)

/// Median, min and max.
func summary(_ xs: [Double]) -> String {
    let s = xs.sorted()
    return String(format: "%7.2f ms  [%.2f-%.2f]", s[s.count / 2] * 1e3, s[0] * 1e3, s[s.count - 1] * 1e3)
}

@MainActor
func bench<O: Optimizer>(_ make: @escaping ([Parameter<Float>]) throws -> O) throws where O.Scalar == Float {
    let shapes: [[Int]]
    do { shapes = try Models.shapes(model: options.model, file: options.shapesFile) } catch { fail("\(error)") }
    let name = options.shapesFile ?? options.model
    let whole = shapes.map { Parameter<Float>(shape: $0) }, mine = shapes.map { Parameter<Float>(shape: $0) }
    Gradients.fill(whole)
    Gradients.fill(mine)
    let marked = Gradients.normalised(model: options.shapesFile == nil ? options.model : "", shapes: shapes)
    let kernel = KernelOptions(threads: threads)
    let replicated = try make(whole)
    try replicated.setKernelOptions(kernel)
    let sharded = try ShardedOptimizer(parameters: mine, communicator: world) { shard in try make(mine.map(shard)) }
    try sharded.base.setKernelOptions(kernel)
    var stepAll: [Double] = [], step: [Double] = [], compute: [Double] = [], communicate: [Double] = []
    var tally = ProjectionTally()
    for k in 0..<(options.warmup + options.steps) {
        if options.gradients == .orthogonal {
            Gradients.orthogonalise(whole, marked)
            Gradients.orthogonalise(mine, marked)
        }
        let t0 = Date()
        try replicated.step()
        let t1 = Date()
        try sharded.step()
        let t2 = Date()
        guard k >= options.warmup else { continue }
        stepAll.append(t1.timeIntervalSince(t0))
        step.append(t2.timeIntervalSince(t1))
        compute.append(sharded.lastStepTiming.compute)
        communicate.append(sharded.lastStepTiming.communication)
        tally.add(replicated, whole)
    }
    guard world.rank == 0 else { return }
    let n = world.size, count = shapes.map { $0.reduce(1, *) }.reduce(0, +)
    let owned = zip(mine, sharded.shards).map { $1.count }.reduce(0, +)
    let (state, unsharded) = sharded.stateBytes
    let projects = O.self == AdamP<Float>.self || O.self == SGDP<Float>.self
    let mb = { (b: Int) in String(format: "%.1f MB", Double(b) / 1e6) }
    print("""
    adamp-bench-mpi: \(name) (\(count) parameters in \(shapes.count) tensors), \(options.optimizer), \
    \(n) ranks, \(threads) thread(s) per rank, \(options.steps) steps, \(options.gradients) gradients; rank 0's times, \
    median [min-max]
      every rank steps the whole model  \(summary(stepAll))   state \(mb(unsharded)) per rank
      sharded (ZeRO-1)                  \(summary(step))   state \(mb(state)) on rank 0 (\(owned) of the parameters)
          of which kernels              \(summary(compute))
          of which communication        \(summary(communicate))
      projections: \(tally)
      bytes received per step by rank 0: parameters \(mb((count - owned) * 4)) ((P - P_r) x 4)\
    \(projects ? "; decisions and cut tensors' statistics at most 8 T + 24 C (T = \(shapes.count) tensors, C the rows of the <= \(n - 1) cut ones)" : "")
    """)
}

do {
    let make = Benchmarked.all[options.optimizer]!.make
    switch options.optimizer {
    case "adamp": try bench { try make($0) as! AdamP<Float> }
    case "sgdp": try bench { try make($0) as! SGDP<Float> }
    case "adam": try bench { try make($0) as! Adam<Float> }
    case "adamw": try bench { try make($0) as! AdamW<Float> }
    default: try bench { try make($0) as! SGD<Float> }
    }
} catch {
    fail("rank \(world.rank): \(error)")
}
#else
import Foundation
FileHandle.standardError.write(Data("adamp-bench-mpi: built without the package's MPI trait (--disable-default-traits); it needs Open MPI\n".utf8))
exit(2)
#endif
