// adamp-bench: step time of AdamP and SGDP on real models' parameter shapes.
//   swift run -c release adamp-bench [--model resnet50] [--optimizer adamp|sgdp|all]
//                                    [--steps 20] [--warmup 3] [--json] [--allow-debug]
import AdamPKit
import Foundation

struct Options {
    var model = "resnet50"
    var optimizers = ["adamp", "sgdp"]
    var steps = 20
    var warmup = 3
    var json = false
    var allowDebug = false
}

func parse(_ args: [String]) -> Options {
    var o = Options()
    var it = args.makeIterator()
    func value(_ flag: String) -> String {
        guard let v = it.next() else { fail("\(flag) needs a value") }
        return v
    }
    while let a = it.next() {
        switch a {
        case "--model": o.model = value(a)
        case "--optimizer": let v = value(a); o.optimizers = v == "all" ? ["adamp", "sgdp"] : [v]
        case "--steps": o.steps = Int(value(a)) ?? 0
        case "--warmup": o.warmup = Int(value(a)) ?? -1
        case "--json": o.json = true
        case "--allow-debug": o.allowDebug = true
        case "-h", "--help":
            print("usage: adamp-bench [--model \(Models.all.keys.sorted().joined(separator: "|"))] [--optimizer adamp|sgdp|all] [--steps N] [--warmup N] [--json] [--allow-debug]")
            exit(0)
        default: fail("unknown argument \(a) (see --help)")
        }
    }
    guard Models.all[o.model] != nil else { fail("unknown model \(o.model): one of \(Models.all.keys.sorted())") }
    guard o.steps > 0, o.warmup >= 0 else { fail("--steps must be > 0 and --warmup >= 0") }
    guard o.optimizers.allSatisfy(["adamp", "sgdp"].contains) else { fail("unknown optimizer \(o.optimizers)") }
    return o
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("adamp-bench: \(message)\n".utf8))
    exit(2)
}

struct Result: Codable {
    let optimizer: String, model: String, parameters: Int, tensors: Int, steps: Int
    let medianMs: Double, minMs: Double, paramsPerSecond: Double, effectiveGBps: Double
}

/// Bytes an optimizer must move per f32 parameter at the least (adamp.h):
/// AdamP reads p, g, m, v and writes p, m, v; SGDP reads p, g, buf and writes p, buf.
let minimumBytes = ["adamp": 28.0, "sgdp": 20.0]

func run(_ name: String, shapes: [[Int]], options o: Options) throws -> Result {
    var rng = SystemRandomNumberGenerator()
    let params = shapes.map { Parameter<Float>(shape: $0) }
    for p in params {
        p.withUnsafeMutableValues { v in for i in v.indices { v[i] = Float.random(in: -0.1...0.1, using: &rng) } }
        p.withUnsafeMutableGradient { g in for i in g.indices { g[i] = Float.random(in: -0.01...0.01, using: &rng) } }
    }
    let opt: any Optimizer<Float> = name == "adamp"
        ? try AdamP(parameters: params, learningRate: 1e-3, weightDecay: 1e-4)
        : try SGDP(parameters: params, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true)
    for _ in 0..<o.warmup { try opt.step() }
    var times: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<o.steps {
        let d = try clock.measure { try opt.step() }
        times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
    }
    times.sort()
    let n = params.reduce(0) { $0 + $1.count }
    let median = times[times.count / 2]
    return Result(optimizer: name, model: o.model, parameters: n, tensors: params.count, steps: o.steps,
                  medianMs: median, minMs: times[0], paramsPerSecond: Double(n) / (median / 1e3),
                  effectiveGBps: Double(n) * minimumBytes[name]! / (median / 1e3) / 1e9)
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
#if DEBUG
if !options.allowDebug {
    fail("this is a debug build, whose timings mean nothing: use `swift run -c release adamp-bench` (or pass --allow-debug)")
}
#endif
let shapes = Models.all[options.model]!()
var results: [Result] = []
do {
    for name in options.optimizers { results.append(try run(name, shapes: shapes, options: options)) }
} catch {
    fail("\(error)")
}
if options.json {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try! enc.encode(results), as: UTF8.self))
} else {
    let n = results.first?.parameters ?? 0
    print("model \(options.model): \(n) parameters in \(shapes.count) tensors, f32, \(options.steps) timed steps after \(options.warmup) warm-up")
    print("optimizer   median ms     min ms    Mparam/s   GB/s (min bytes)")
    for r in results {
        print(r.optimizer.padding(toLength: 9, withPad: " ", startingAt: 0)
              + String(format: "%12.2f %10.2f %11.0f %8.1f", r.medianMs, r.minMs, r.paramsPerSecond / 1e6, r.effectiveGBps))
    }
}
