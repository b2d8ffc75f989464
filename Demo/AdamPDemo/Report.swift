#if BLAS
import Foundation

/// The demo's output for people: the per-epoch table, the CSV, the summary.
public enum Report {
    /// The table's header: one row per optimizer and epoch.
    public static func header(weights: [String]) -> String {
        let w = weights.map { pad("‖\($0)‖", 8) + pad("turn°", 8) }.joined()
        return pad("optimizer", labelWidth) + pad("epoch", 6) + pad("lr", 10) + pad("train loss", 11) + pad("test loss", 10)
            + pad("test acc", 9) + w + "  projections (share of the epoch's steps)"
    }

    /// A row of the table; `label` names the run (`RunResult.label`).
    public static func row(_ label: String, _ r: EpochRecord) -> String {
        let w = r.weights.map { pad(f($0.norm, 3), 8) + pad(f($0.turnDegrees, 4), 8) }.joined()
        let projections = r.epoch == 0 ? "" : r.weights.map { "\($0.name): \(projectionShare($0))" }.joined(separator: ", ")
        return pad(label, labelWidth) + pad("\(r.epoch)", 6) + pad(e(r.learningRate), 10) + pad(f(r.trainLoss, 4), 11)
            + pad(f(r.testLoss, 4), 10) + pad(f(100 * r.testAccuracy, 2) + "%", 9) + w + "  " + projections
    }

    static func projectionShare(_ w: WeightRecord) -> String {
        let total = w.channelSteps + w.layerSteps + w.unprojectedSteps
        let parts = [("channel", w.channelSteps), ("layer", w.layerSteps), ("none", w.unprojectedSteps)]
            .filter { $0.1 > 0 }.map { "\($0.0) \(Int((100 * $0.1 / total).rounded()))%" }
        return parts.joined(separator: " ")
    }

    /// The CSV of every run: a header, then one line per optimizer,
    /// precision and epoch; counts (the epoch, steps) as integers.
    public static func csv(_ results: [RunResult]) -> String {
        let names = results.first?.records.first?.weights.map(\.name) ?? []
        let counts = EpochRecord.integerColumns(weights: names)
        var lines = [(["optimizer", "precision"] + EpochRecord.columns(weights: names)).joined(separator: ",")]
        for r in results {
            for rec in r.records {
                let cells = zip(rec.values, counts).map { v, isCount in isCount ? "\(Int(v))" : "\(v)" }
                lines.append(([r.optimizer.rawValue, r.precision.rawValue] + cells).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The end of a run: each optimizer's last epoch against its first, and
    /// where the time went.
    public static func summary(_ results: [RunResult]) -> String {
        guard let names = results.first?.records.first?.weights.map(\.name) else { return "" }
        var out = ["", "After training: each weight's norm as a multiple of its initial norm, and its mean turn per step over all epochs:",
                   pad("optimizer", labelWidth) + pad("epochs", 7) + pad("test acc", 9)
                       + names.map { pad("‖\($0)‖ ×", 10) + pad("turn° \($0)", 11) }.joined()]
        for r in results {
            let first = r.records.first!, last = r.records.last!, trained = r.records.dropFirst()
            out.append(pad(r.label, labelWidth) + pad("\(last.epoch)", 7) + pad(f(100 * last.testAccuracy, 2) + "%", 9)
                + first.weights.indices.map { k in
                    let turn = trained.reduce(0) { $0 + $1.weights[k].turnDegrees } / Double(max(1, trained.count))
                    return pad(f(last.weights[k].norm / first.weights[k].norm, 3), 10) + pad(f(turn, 4), 11)
                }.joined())
        }
        out += ["", "Time per epoch, this process (\(results.first!.parameterCount) parameters, \(results.first!.stepsPerEpoch) steps per epoch):",
                pad("optimizer", labelWidth) + pad("forward+backward", 18) + pad("of which BLAS", 14) + pad("optimizer step", 16)
                    + pad("step share", 12) + "evaluation"]
        for r in results {
            let t = r.timing
            guard t.epochs > 0 else {
                out.append(pad(r.label, labelWidth) + (r.resumedAfter > 0
                    ? "(no epoch run here: all \(r.resumedAfter) came from the checkpoint)"
                    : "(no epoch run: stopped after epoch 0)"))
                continue
            }
            let n = Double(t.epochs), ms = { (s: Double) in f(1000 * s / n, 1) + " ms" }
            let share = t.optimizerStep / (t.forwardBackward + t.optimizerStep)
            out.append(pad(r.label, labelWidth) + pad(ms(t.forwardBackward), 18) + pad(ms(t.blas), 14)
                + pad(ms(t.optimizerStep), 16) + pad(f(100 * share, 1) + "%", 12) + ms(t.evaluation))
        }
        return out.joined(separator: "\n")
    }

    /// The run's column: "AdamW bf16" and a space.
    static let labelWidth = 11

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
    static func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    static func e(_ x: Double) -> String { String(format: "%.2e", x) }
}
#endif
