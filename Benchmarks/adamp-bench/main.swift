// adamp-bench: optimizer step time on real models' parameter shapes, against
// the machine's streaming floor measured in the same run.
import AdamPKit
import BenchSupport
import CStream
import Foundation

let usage = """
usage: adamp-bench [--model NAME | --shapes FILE.json] [--optimizer adamp|sgdp|adam|adamw|sgd|all]
                   [--isa \(KernelISA.allCases.map(\.rawValue).joined(separator: "|"))]
                   [--threads N] [--block N] [--steps N] [--warmup N] [--json] [--list-shapes] [--allow-debug]
                   [--gradients orthogonal|random] [--projection auto|rules] [--gradient-rules] [--diagnostics]
                   [--contention] [--idle] [--dtype f32|bf16|f16] [--master off|float32|split]
models: \(Models.all.keys.sorted().joined(separator: ", ")) (default resnet50)
Every optimizer asked for is set up on its own copy of the model; then, for --steps rounds (after --warmup
untimed ones), each steps once and its streaming floor (below) runs once, in turns, so that all of them see
the same moments of a noisy machine. Columns: median ms and its quartiles (q1-q3) over the timed steps;
Mparam/s; GB/s*, the least bytes the step must move per parameter over its median time; floor ms, a
plain loop reading and writing those same bytes (Benchmarks/CStream) on the same threads, its median;
of floor, floor ms over the step's ms; of 2-pass**, the same for the bytes the step moves with the
paper's test (AdamP and SGDP read p and g twice in each tensor they test).
--steps N         timed rounds (default 20); --warmup N: untimed rounds first (default 3)
--threads N       the threads a step runs on (default 0: OMP_NUM_THREADS, else the cores); --block N: the
                  scheduler's block (0: the library's default)
--isa NAME        the kernels (default auto: the best this CPU has)
--json            the results as JSON (one object per optimizer, the columns above and more) instead of a table
--list-shapes     print the model's shapes as JSON and exit
--gradients       orthogonal (default): the weights of layers followed by normalisation (ResNets' convolutions;
                  4-D tensors of a --shapes file) get gradients orthogonal to their current weights before every
                  timed step, as behind BatchNorm, so AdamP and SGDP take their projected path; random: all random
--projection      auto (default): AdamP and SGDP decide by the paper's test every step; rules: as a user who knows
                  the model sets the groups, those weights `projection: .channel` and the rest `.never` (stepped
                  in one sweep, without the test's statistics pass)
--contention      time the optimizers taking turns step by step, first on a quiet machine, then with one
                  CPU-bound process running beside them, and compare
--idle            the CPU the process burns in the 50 ms after each step, while it should be idle (the OpenMP
                  runtime's threads spinning; compare OMP_WAIT_POLICY=passive)
--gradient-rules  also time step(maxGradNorm: 1) and step(skipIfNonfinite: true), interleaved with the plain step
--diagnostics     after timing, one step with diagnostics on: a table of what it saw for every tensor
--dtype           the parameters' and gradients' type: f32 (default), bf16 (BFloat16), f16 (Float16)
--master          how bf16/f16 parameters keep their exact value (MasterWeights): off (default: state in the
                  parameters' type), float32 (a float32 copy, float32 state), split (bf16: a 16-bit trail)
"""

struct Options {
    var model = "resnet50", shapesFile: String?
    var optimizers = Benchmarked.names
    var isa = KernelISA.auto
    var threads = 0, block = 0, steps = 20, warmup = 3
    var json = false, listShapes = false, allowDebug = false, gradientRules = false, diagnostics = false
    var gradients = GradientKind.orthogonal, contention = false, idle = false
    var ruled = false
    var dtype = "f32", master = MasterWeights.off
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("adamp-bench: \(message)\n".utf8))
    exit(2)
}

func note(_ message: String) { FileHandle.standardError.write(Data("\(message)\n".utf8)) }

func parse(_ args: [String]) -> Options {
    var o = Options()
    var it = args.makeIterator()
    func value(_ flag: String) -> String {
        guard let v = it.next() else { fail("\(flag) needs a value") }
        return v
    }
    func int(_ flag: String) -> Int {
        guard let v = Int(value(flag)) else { fail("\(flag) needs a whole number") }
        return v
    }
    while let a = it.next() {
        switch a {
        case "--model": o.model = value(a)
        case "--shapes": o.shapesFile = value(a)
        case "--optimizer": let v = value(a); o.optimizers = v == "all" ? Benchmarked.names : [v]
        case "--isa":
            guard let isa = KernelISA(rawValue: value(a)) else {
                fail("--isa takes one of \(KernelISA.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            o.isa = isa
        case "--threads": o.threads = int(a)
        case "--block": o.block = int(a)
        case "--steps": o.steps = int(a)
        case "--warmup": o.warmup = int(a)
        case "--json": o.json = true
        case "--list-shapes": o.listShapes = true
        case "--allow-debug": o.allowDebug = true
        case "--gradient-rules": o.gradientRules = true
        case "--diagnostics": o.diagnostics = true
        case "--contention": o.contention = true
        case "--idle": o.idle = true
        case "--projection":
            switch value(a) {
            case "auto": o.ruled = false
            case "rules": o.ruled = true
            default: fail("--projection takes one of auto, rules")
            }
        case "--dtype":
            o.dtype = value(a)
            guard ["f32", "bf16", "f16"].contains(o.dtype) else { fail("--dtype takes one of f32, bf16, f16") }
        case "--master":
            let v = value(a)
            guard let m = MasterWeights.allCases.first(where: { $0.name == v }) else {
                fail("--master takes one of \(MasterWeights.allCases.map(\.name).joined(separator: ", "))")
            }
            o.master = m
        case "--gradients":
            do { o.gradients = try GradientKind(argument: value(a)) } catch { fail("\(error)") }
        case "-h", "--help": print(usage); exit(0)
        default: fail("unknown argument \(a) (adamp-bench --help lists them)")
        }
    }
    if o.shapesFile == nil { do { try Models.check(model: o.model) } catch { fail("\(error)") } }
    if o.steps <= 0 { fail("--steps must be > 0, got \(o.steps)") }
    if o.warmup < 0 { fail("--warmup must be >= 0, got \(o.warmup)") }
    if o.threads < 0 || o.threads > KernelOptions.maxThreads {
        fail("--threads must be in [0, \(KernelOptions.maxThreads)] (0: OMP_NUM_THREADS or the cores), got \(o.threads)")
    }
    if o.block < 0 { fail("--block must be >= 0 (0: the default), got \(o.block)") }
    guard o.optimizers.allSatisfy(Benchmarked.names.contains) else {
        fail("--optimizer \(o.optimizers.joined()): unknown (one of \(Benchmarked.names.joined(separator: ", ")), all)")
    }
    guard o.isa.isSupported else { fail("this CPU has no \(o.isa.rawValue)") }
    if o.contention && (o.json || o.gradientRules || o.diagnostics || o.idle) {
        fail("--contention prints its own table: it does not combine with --json, --gradient-rules, --diagnostics or --idle")
    }
    if (o.contention || o.idle) && (o.dtype != "f32" || o.master != .off) {
        fail("--contention and --idle time float32 parameters: they do not combine with --dtype or --master")
    }
    if o.master != .off && o.dtype == "f32" { fail("--master \(o.master.name) keeps bf16 or f16 parameters: add --dtype") }
    if o.master == .split && o.dtype != "bf16" { fail("--master split keeps bf16 parameters only") }
    if o.idle && (o.json || o.gradientRules || o.diagnostics) {
        fail("--idle prints its own table: it does not combine with --json, --gradient-rules or --diagnostics")
    }
    return o
}

struct Result: Codable {
    let optimizer, model, isa, dtype, master: String
    let threads, parameters, tensors, steps: Int
    let bytesPerParameter, medianMs, minMs, q1Ms, q3Ms, paramsPerSecond, effectiveGBps: Double
    let floorMs, floorGBps, fractionOfFloor: Double
    /// The share of the floor of the bytes the step moves with the paper's
    /// test, which reads p and g twice (Benchmarked.rereadBytes): the same
    /// as fractionOfFloor where nothing is tested (--projection rules, the
    /// baselines, tensors stepped whole).
    let fractionOfTwoPassFloor: Double
    /// With --gradient-rules: the median of a step clipping to norm 1
    /// (`step(maxGradNorm: 1)`), and of one with the non-finite guard.
    var clippedMs: Double? = nil, guardedMs: Double? = nil
    /// What the timed steps' projections were (orthogonal gradients make
    /// AdamP and SGDP project the normalised layers).
    var projections = ""
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
}

/// Median and minimum of each body's time over `steps` rounds, after
/// `warmup` untimed ones. The bodies alternate within a round, so that both
/// see the same moments of a noisy machine. `prepare` runs before every
/// round and `timed` after every timed one, untimed.
func timeInterleaved(steps: Int, warmup: Int, _ bodies: [() throws -> Void], prepare: () -> Void = {},
                     timed: () -> Void = {}) throws -> [(median: Double, min: Double, q1: Double, q3: Double)] {
    for _ in 0..<warmup { prepare(); for b in bodies { try b() } }
    let clock = ContinuousClock()
    var t = bodies.map { _ in [Double]() }
    for _ in 0..<steps {
        prepare()
        for (i, b) in bodies.enumerated() { t[i].append(milliseconds(try clock.measure(b))) }
        timed()
    }
    return t.map { ts in let s = ts.sorted(); return (s[s.count / 2], s[0], s[s.count / 4], s[3 * s.count / 4]) }
}

/// The streaming floor's buffers: five arrays as long as the model, each
/// of the size the step's own buffer has.
final class FloorBuffers {
    let arrays: [UnsafeMutableRawPointer?]
    let count: Int, states: Int, mode: Int32
    /// `mode`: 0 float32, else STREAM_OFF, STREAM_MASTER or STREAM_SPLIT
    /// (stream.h), for an optimizer of `states` state buffers.
    init(count: Int, states: Int, mode: Int32) {
        (self.count, self.states, self.mode) = (count, states, mode)
        // Element sizes of a[0] ... a[4] (stream.h).
        let sizes = switch mode {
        case 0: [4, 4, 4, 4, 0]
        case Int32(STREAM_OFF): [2, 2, 2, 2, 0]
        case Int32(STREAM_MASTER): [4, 2, 4, 4, 2]
        default: [2, 2, 4, 4, 2]
        }
        arrays = sizes.map { size in
            guard size > 0 else { return nil }
            // Cache-line aligned, as the optimizer's own buffers are; small
            // values (1e-3, or bfloat16's 2^-10) in every element.
            let a = UnsafeMutableRawPointer.allocate(byteCount: max(count * size, 1), alignment: 64)
            if size == 4 { a.initializeMemory(as: Float.self, repeating: 1e-3, count: count) }
            else { a.initializeMemory(as: UInt16.self, repeating: 0x3a80, count: count) }
            return a
        }
    }
    deinit { arrays.forEach { $0?.deallocate() } }
    func run(threads: Int) {
        if mode == 0 {
            let f = arrays.map { $0?.assumingMemoryBound(to: Float.self) }
            if states == 2 { stream_adam(f[0], f[1], f[2], f[3], count, Int32(threads)) }
            else { stream_sgd(f[0], f[1], f[2], count, Int32(threads)) }
        } else {
            arrays.withUnsafeBufferPointer { stream_mixed(Int32(states), mode, $0.baseAddress, count, Int32(threads)) }
        }
    }
}

extension Options {
    /// Bytes of one parameter element of --dtype.
    var parameterSize: Int { dtype == "f32" ? 4 : 2 }

    /// The floor's mode (stream.h) and bytes per parameter of `spec` as these options store it.
    func floor(_ spec: Benchmarked) -> (mode: Int32, bytes: Double) {
        let size = parameterSize
        let mode: Int32 = size == 4 ? 0 : master == .off ? Int32(STREAM_OFF) : master == .float32 ? Int32(STREAM_MASTER)
            : Int32(STREAM_SPLIT)
        return (mode, spec.bytes(parameterSize: size, master: master))
    }
}

func run(_ names: [String], shapes: [[Int]], model: String, o: Options) throws -> [Result] {
    switch o.dtype {
    case "bf16": try run(BFloat16.self, names, shapes: shapes, model: model, o: o)
    case "f16": try run(Float16.self, names, shapes: shapes, model: model, o: o)
    default: try run(Float.self, names, shapes: shapes, model: model, o: o)
    }
}

/// Every optimizer of `names` on its own parameters, taking turns step by
/// step, each step followed by a pass of the floor of its kind (its number
/// of state buffers).
func run<S: AdamPScalar>(_: S.Type, _ names: [String], shapes: [[Int]], model: String, o: Options) throws -> [Result] {
    let n = try Models.totalCount(shapes, source: model)
    let specs = names.map { Benchmarked.all[$0]! }
    let subjects = try names.map { try Subject<S>($0, shapes: shapes, model: model, o: o) }
    var floors: [Int: FloorBuffers] = [:]
    for s in specs where floors[s.states] == nil {
        floors[s.states] = FloorBuffers(count: n, states: s.states, mode: o.floor(s).mode)
    }
    let threads = o.threadCount
    let isa = o.isa == .auto ? KernelISA.selected : o.isa
    note("adamp-bench: \(names.joined(separator: ", ")) on \(model) (\(n) \(o.dtype) parameters, master \(o.master.name), "
         + "\(isa.rawValue), \(threads) threads): \(o.warmup + o.steps) rounds, in each every optimizer steps once and "
         + "its streaming floor runs once, in turns")
    var bodies: [() throws -> Void] = []
    for (k, s) in subjects.enumerated() {
        let floor = floors[specs[k].states]!
        bodies += [{ try s.optimizer.step() }, { floor.run(threads: threads) }]
    }
    if o.gradientRules {
        for s in subjects { bodies += [{ try s.optimizer.step(maxGradNorm: 1) }, { try s.optimizer.step(skipIfNonfinite: true) }] }
    }
    var tallies = names.map { _ in ProjectionTally() }
    let times = try timeInterleaved(steps: o.steps, warmup: o.warmup, bodies,
                                    prepare: { subjects.forEach { $0.prepare() } },
                                    timed: { for k in subjects.indices { tallies[k].add(subjects[k].optimizer, subjects[k].params) } })
    let tested = o.ruled ? 0 : shapes.filter { $0.count > 1 }.map { $0.reduce(1, *) }
        .filter { $0 > Benchmarked.wholeStepElements }.reduce(0, +)
    var results: [Result] = []
    for (k, name) in names.enumerated() {
        let (ours, floor) = (times[2 * k], times[2 * k + 1])
        let bytesPerParameter = o.floor(specs[k]).bytes
        let bytes = Double(n) * bytesPerParameter
        let twoPass = bytes + Double(tested) * specs[k].rereadBytes(parameterSize: o.parameterSize, master: o.master)
        var r = Result(optimizer: name, model: model, isa: isa.rawValue, dtype: o.dtype, master: o.master.name,
                       threads: threads, parameters: n, tensors: shapes.count, steps: o.steps,
                       bytesPerParameter: bytesPerParameter, medianMs: ours.median, minMs: ours.min, q1Ms: ours.q1,
                       q3Ms: ours.q3, paramsPerSecond: Double(n) / (ours.median / 1e3),
                       effectiveGBps: bytes / (ours.median / 1e3) / 1e9,
                       floorMs: floor.median, floorGBps: bytes / (floor.median / 1e3) / 1e9,
                       fractionOfFloor: floor.median / ours.median,
                       fractionOfTwoPassFloor: floor.median * (twoPass / bytes) / ours.median)
        if o.gradientRules { (r.clippedMs, r.guardedMs) = (times[2 * names.count + 2 * k].median, times[2 * names.count + 2 * k + 1].median) }
        r.projections = tallies[k].description
        results.append(r)
    }
    if o.diagnostics {
        for (k, s) in subjects.enumerated() {
            s.prepare() /* the diagnosed step's gradients made as the timed steps' were */
            try printDiagnostics(s.optimizer, s.params, name: names[k], model: model)
        }
    }
    return results
}

/// One more step with diagnostics on, and what it saw for every tensor.
func printDiagnostics<S: AdamPScalar>(_ opt: any Optimizer<S>, _ params: [Parameter<S>], name: String, model: String) throws {
    opt.diagnosticsEnabled = true
    try opt.step()
    defer { opt.diagnosticsEnabled = false }
    print("\(name) on \(model): what one step saw (|cos| of the channel and layer views against their thresholds;"
          + " norms before the step; lr/|w|^2 the effective step size)")
    print("  # shape              projection   chan |cos|  threshold  layer |cos|  threshold       |w|       |g|   lr/|w|^2")
    func f(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.3g", x) }
    for (i, p) in params.enumerated() {
        guard let d = opt.diagnostics(for: p) else { continue }
        let shape = p.shape.map(String.init).joined(separator: "x")
        print(String(format: "%3d ", i) + shape.padding(toLength: 18, withPad: " ", startingAt: 0)
              + " " + "\(d.projection)".padding(toLength: 11, withPad: " ", startingAt: 0)
              + [d.channelCosine, d.channelThreshold, d.layerCosine, d.layerThreshold].map { f($0).leftPad(12) }.joined()
              + [d.weightNorm, d.gradientNorm, d.effectiveStepSize].map { f($0).leftPad(10) }.joined())
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? " " + self : String(repeating: " ", count: n - count) + self }
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let model = options.shapesFile ?? options.model
let shapes: [[Int]]
do { shapes = try Models.shapes(model: options.model, file: options.shapesFile) } catch { fail("\(error)") }
if options.listShapes {
    print(String(decoding: try! JSONSerialization.data(withJSONObject: shapes), as: UTF8.self))
    exit(0)
}
// Each optimizer's parameters, gradients and up to two state buffers (16
// bytes per f32 parameter), and a floor's five arrays for each kind of
// optimizer (40 in all). Refuse what cannot fit rather than crash.
do {
    let source = options.shapesFile.map { "--shapes \($0)" } ?? "--model \(options.model)"
    let n = try Models.totalCount(shapes, source: source)
    let (need, o) = n.multipliedReportingOverflow(by: 16 * options.optimizers.count + 40)
    if o || UInt64(need) > ProcessInfo.processInfo.physicalMemory {
        fail("\(source): \(n) parameters need about \(o ? "more than Int.max" : "\(need / 1_000_000_000) GB") "
             + "of memory; this machine has \(ProcessInfo.processInfo.physicalMemory / 1_000_000_000) GB")
    }
} catch { fail("\(error)") }
#if DEBUG
if !options.allowDebug {
    fail("this is a debug build, whose timings mean nothing: use `swift run -c release adamp-bench` (or pass --allow-debug)")
}
#endif
if options.contention {
    do { try Contention.run(shapes: shapes, model: model, o: options) } catch { fail("\(error)") }
    exit(0)
}
if options.idle {
    do { try Idle.run(shapes: shapes, model: model, o: options) } catch { fail("\(error)") }
    exit(0)
}
let results: [Result]
do { results = try run(options.optimizers, shapes: shapes, model: model, o: options) } catch { fail("\(error)") }
if options.json {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try! enc.encode(results), as: UTF8.self))
} else if let r = results.first {
    print("\(r.model): \(r.parameters) \(r.dtype) parameters in \(r.tensors) tensors\(r.dtype == "f32" ? "" : ", master \(r.master)"); "
          + "\(r.isa), \(r.threads) threads; \(options.gradients.rawValue) gradients, projection "
          + (options.ruled ? "by rules (normalised layers .channel, the rest .never)" : "by the paper's test")
          + "; medians of \(r.steps) steps, the optimizers and their floors taking turns")
    print("optimizer  median ms (q1-q3)      Mparam/s  GB/s*  floor ms  floor GB/s*  of floor  of 2-pass**")
    for r in results {
        print(r.optimizer.padding(toLength: 9, withPad: " ", startingAt: 0)
              + String(format: "%11.2f (%5.2f-%5.2f) %9.0f %6.1f %9.2f %12.1f %8.0f%% %11.0f%%", r.medianMs, r.q1Ms, r.q3Ms,
                       r.paramsPerSecond / 1e6, r.effectiveGBps, r.floorMs, r.floorGBps, 100 * r.fractionOfFloor,
                       100 * r.fractionOfTwoPassFloor))
    }
    let perParameter = Dictionary(grouping: results, by: \.bytesPerParameter).keys.sorted(by: >)
        .map { b in "\(Int(b)) (\(results.filter { $0.bytesPerParameter == b }.map(\.optimizer).joined(separator: ", ")))" }
    print("* GB/s counts the least bytes each must move per parameter: \(perParameter.joined(separator: ", ")) "
          + "(CKernels/include/adamp.h; docs/mixed-precision.md)")
    print("** of the floor of the bytes the step moves: with the paper's test, AdamP and SGDP read p and g twice "
          + "in each tensor of ndim > 1 and more than \(Benchmarked.wholeStepElements) elements")
    print("projections of the timed steps (\(options.gradients.rawValue) gradients):")
    for r in results { print("  " + r.optimizer.padding(toLength: 7, withPad: " ", startingAt: 0) + r.projections) }
    if options.gradientRules {
        print("\nthe same steps with gradient rules (interleaved with the above): clipped = step(maxGradNorm: 1),")
        print("guarded = step(skipIfNonfinite: true); each reads the gradients once more for the norm")
        print("optimizer   plain ms  clipped ms  ratio  guarded ms  ratio")
        for r in results {
            guard let c = r.clippedMs, let g = r.guardedMs else { continue }
            print(r.optimizer.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: "%11.2f %11.2f %6.2f %11.2f %6.2f", r.medianMs, c, c / r.medianMs, g, g / r.medianMs))
        }
    }
}
