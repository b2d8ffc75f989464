// adamp-demo: trains one small network with SGD, SGDP, Adam, AdamW and
// AdamP from the same seed, and shows what the paper shows: the norms of
// scale-invariant weights grow under the momentum optimizers and stay put
// under AdamP and SGDP. See docs/demo.md.
#if BLAS
import AdamPDemo
import Foundation

let usage = """
usage: adamp-demo [options]

Trains a network whose hidden layers are followed by BatchNorm and LayerNorm
(forward and backward over OpenBLAS, orthogonal initialisation by LAPACKE)
with each optimizer from the same seed, and reports per epoch the loss, the
held-out accuracy, the norm of each scale-invariant weight, its effective
step (the angle a step turns it by) and AdamP's projection decisions.

  --optimizers LIST   a comma-separated subset of sgd,sgdp,adam,adamw,adamp (all)
  --precision P       f32 (default), bf16 (the parameters and gradients in
                      bfloat16, the products of bfloat16 operands, by
                      OpenBLAS's cblas_sbgemm where it has one, split master
                      weights in the optimizer), or both (each optimizer in
                      each; the chart draws bf16 lighter)
  --epochs N          epochs (20)
  --batch N           batch size (128)
  --hidden N          width of the hidden layers (256)
  --seed N            seed of the initialisation and the batch order (0)
  --idx DIR           MNIST-format IDX files instead of the generated task:
                      DIR/train-images-idx3-ubyte, train-labels-idx1-ubyte,
                      t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (uncompressed)
  --train N, --test N the generated task's sizes (16384, 4096)
  --noise P           the share of its training labels made random (0.05)
  --data-seed N       its seed (1)
  --checkpoint DIR    save every optimizer's run there after each epoch, and
                      resume from it (same settings needed)
  --stop-after N      stop each run after epoch N (to try --checkpoint)
  --threads N         OpenBLAS's and the optimizer's threads; 0 (default): one
                      while the network's products are small (as by default:
                      more cost more than they save, and beside a busy
                      process much more), else the cores
  --csv FILE          the per-epoch numbers (adamp-demo.csv)
  --svg FILE          the chart (adamp-demo.svg)
  --help              this text
"""

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("adamp-demo: \(message)\n".utf8))
    exit(code)
}

var config = DemoConfig()
var (train, test, noise, dataSeed) = (16_384, 4_096, 0.05, UInt64(1))
var idx: URL?
var csvPath = "adamp-demo.csv", svgPath = "adamp-demo.svg"
/// Unbuffered, so that the table appears as the epochs end, through a pipe too.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

final class Arguments {
    var rest = CommandLine.arguments.dropFirst()
    func value(_ flag: String) -> String {
        guard let v = rest.popFirst() else { fail("\(flag) needs a value (adamp-demo --help lists the options)", code: 2) }
        return v
    }
    /// Bounded above too, so that no value asks for more memory than a
    /// machine has (a crash is never the answer to an argument).
    func integer(_ flag: String, min: Int, max: Int = 1 << 20) -> Int {
        let v = value(flag)
        guard let n = Int(v), n >= min, n <= max else {
            fail("\(flag) must be an integer in [\(min), \(max)] (got \"\(v)\")", code: 2)
        }
        return n
    }
}
let args = Arguments()
@MainActor func value(_ flag: String) -> String { args.value(flag) }
@MainActor func integer(_ flag: String, min: Int, max: Int = 1 << 20) -> Int { args.integer(flag, min: min, max: max) }
while let flag = args.rest.popFirst() {
    switch flag {
    case "--optimizers":
        let v = value(flag)
        config.optimizers = v.split(separator: ",").map { name in
            guard let k = DemoOptimizer(rawValue: name.lowercased()) else {
                fail("--optimizers: \"\(name)\" is not one of \(DemoOptimizer.allCases.map(\.rawValue).joined(separator: ", "))", code: 2)
            }
            return k
        }
        if config.optimizers.isEmpty { fail("--optimizers: name at least one", code: 2) }
        if let twice = config.optimizers.first(where: { k in config.optimizers.filter { $0 == k }.count > 1 }) {
            fail("--optimizers: \"\(twice.rawValue)\" is named twice", code: 2)
        }
    case "--precision":
        let v = value(flag)
        let names = v == "both" ? Precision.allCases.map(\.rawValue) : v.split(separator: ",").map(String.init)
        config.precisions = names.map { name in
            guard let p = Precision(rawValue: name.lowercased()) else {
                fail("--precision: \"\(name)\" is not one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")) or both", code: 2)
            }
            return p
        }
        if config.precisions.isEmpty { fail("--precision: name at least one", code: 2) }
        if Set(config.precisions).count < config.precisions.count { fail("--precision: \"\(v)\" names one twice", code: 2) }
    case "--epochs": config.epochs = integer(flag, min: 1, max: 100_000)
    case "--batch": config.batchSize = integer(flag, min: 2, max: 65_536)
    case "--hidden": config.hidden = integer(flag, min: 2, max: 8_192)
    case "--seed": config.seed = UInt64(integer(flag, min: 0, max: Int.max))
    case "--idx": idx = URL(fileURLWithPath: value(flag))
    case "--train": train = integer(flag, min: 2, max: 4_000_000)
    case "--test": test = integer(flag, min: 1, max: 4_000_000)
    case "--noise":
        let v = value(flag)
        guard let p = Double(v), p >= 0, p <= 1 else { fail("--noise must be a number in [0, 1] (got \"\(v)\")", code: 2) }
        noise = p
    case "--data-seed": dataSeed = UInt64(integer(flag, min: 0, max: Int.max))
    case "--checkpoint": config.checkpoint = URL(fileURLWithPath: value(flag))
    case "--stop-after": config.stopAfter = integer(flag, min: 0, max: 100_000)
    case "--threads": config.threads = integer(flag, min: 0, max: 1_024)
    case "--csv": csvPath = value(flag)
    case "--svg": svgPath = value(flag)
    case "--help", "-h": say(usage); exit(0)
    default: fail("unknown option \"\(flag)\" (adamp-demo --help lists the options)", code: 2)
    }
}
config.data = idx.map { .idx(folder: $0) }
    ?? .generated(train: train, test: test, dimension: 32, classes: 10, noise: noise, seed: dataSeed)
// The outputs, before any training: a run of minutes that then cannot write
// its results is lost.
for (flag, path) in [("--csv", csvPath), ("--svg", svgPath)] {
    if let problem = Outputs.problem(writing: path) { fail("\(flag): \(problem)", code: 2) }
}

do {
    if let dir = config.checkpoint {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    let demo = try Demo(config: config)
    say("adamp-demo: \(demo.dataDescription); \(config.epochs) epochs of batches of \(config.batchSize), hidden width \(config.hidden), seed \(config.seed); \(BLASInfo.description), \(demo.threads) thread\(demo.threads == 1 ? "" : "s")")
    if config.precisions.contains(.bf16) { say("bf16 products: \(BLASInfo.bf16Products)") }
    if let warning = BLASInfo.threadWarning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
    let progressLine = isatty(2) != 0
    var printedHeader = false
    let results = try demo.run { event in
        switch event {
        case let .started(kind, precision, resumedAfter):
            let label = RunResult.label(kind, precision)
            if resumedAfter > 0 { say("\(label): resumed from \(config.checkpoint!.path) after epoch \(resumedAfter)") }
        case let .step(kind, precision, epoch, step, of, loss):
            if progressLine {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(RunResult.label(kind, precision))  epoch \(epoch)/\(config.epochs)  step \(step)/\(of)  loss \(String(format: "%.4f", loss))".utf8))
            }
        case let .epoch(kind, precision, record):
            if progressLine { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if !printedHeader { say(Report.header(weights: record.weights.map(\.name))); printedHeader = true }
            say(Report.row(RunResult.label(kind, precision), record))
        }
    }
    say(Report.summary(results))
    let precisions = config.precisions == [.f32] ? "" : config.precisions == [.bf16] ? ", bf16" : ", float32 and bf16"
    let chart = Chart.svg(results, title: "Scale-invariant weights under SGD, SGDP, Adam, AdamW and AdamP (\(idx == nil ? "generated task" : "IDX data"), seed \(config.seed)\(precisions))")
    for (path, text) in [(csvPath, Report.csv(results)), (svgPath, chart)] {
        if let problem = Outputs.write(text, to: path) { fail(problem) }
    }
    say("\nwrote \(csvPath) and \(svgPath)")
} catch {
    fail("\(error)")
}
#else
import Foundation
FileHandle.standardError.write(Data("adamp-demo: built without the package's BLAS trait (--disable-default-traits); it needs OpenBLAS and LAPACKE\n".utf8))
exit(2)
#endif
