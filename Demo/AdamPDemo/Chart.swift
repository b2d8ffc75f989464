#if BLAS
import Foundation

/// The SVG chart: how much the scale-invariant weights' norms grow (as a
/// multiple of their initial norm), in a panel per weight and family, so
/// that the paper's effect shows inside each family (SGDP against SGD, AdamP
/// against Adam and AdamW: in one panel, SGD's growth set the scale and the
/// Adam family's three lines lay on each other); the held-out accuracy; and
/// the effective step. One line per optimizer, the paper's solid, the
/// baselines dashed or dotted, each its own hue; a run of one or two epochs
/// is drawn as points too.
public enum Chart {
    struct Series {
        let label: String, color: String, dash: String, points: [(Double, Double)]
        /// bfloat16 runs: the float32 run's hue and dash, lighter.
        var opacity = 1.0
    }
    struct Panel {
        let title: String, yLabel: String, series: [Series]
        /// A logarithmic y axis: for quantities that fall by decades.
        var log = false
    }

    static func style(_ k: DemoOptimizer) -> (color: String, dash: String) {
        switch k {
        case .sgd: return ("#4a9fd8", "7,4")
        case .sgdp: return ("#08306b", "")
        case .adam: return ("#f28e2b", "7,4")
        case .adamw: return ("#7b4fa6", "2,3")
        case .adamp: return ("#c81d25", "")
        }
    }

    /// The families whose members are compared: the paper's optimizer and the baselines it improves on.
    static let families: [[DemoOptimizer]] = [[.sgd, .sgdp], [.adam, .adamw, .adamp]]

    public static func svg(_ results: [RunResult], title: String) -> String {
        let weights = results.first?.records.first?.weights.map(\.name) ?? []
        func series(_ runs: [RunResult], _ value: @escaping (EpochRecord, EpochRecord) -> Double?) -> [Series] {
            runs.map { r in
                let s = style(r.optimizer), first = r.records.first!
                return Series(label: r.label, color: s.color, dash: s.dash,
                              points: r.records.compactMap { rec in value(rec, first).map { (Double(rec.epoch), $0) } },
                              opacity: r.precision == .f32 ? 1 : 0.45)
            }
        }
        let what = ["fc1": "fc1.weight (before BatchNorm)", "fc2": "fc2.weight (before LayerNorm)"]
        // Each family's panel names the members that ran ("Adam and AdamP").
        let present = families.map { f in
            let runs = results.filter { f.contains($0.optimizer) }
            let names = f.filter { k in runs.contains { $0.optimizer == k } }.map(\.label)
            return (names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!, runs)
        }.filter { !$0.1.isEmpty }
        var grid: [[Panel]] = weights.enumerated().map { k, name in
            present.map { family, runs in
                Panel(title: "\(what[name] ?? name): \(family)", yLabel: "‖w‖ / ‖w at epoch 0‖",
                      series: series(runs) { rec, first in rec.weights[k].norm / first.weights[k].norm })
            }
        }
        let accuracy = Panel(title: "Held-out accuracy", yLabel: "accuracy (%)",
                             series: series(results) { rec, _ in rec.epoch == 0 ? nil : 100 * rec.testAccuracy })
        let turn = weights.first.map { name in
            Panel(title: "Effective step of \(name).weight (mean angle per step)", yLabel: "degrees (log scale)",
                  series: series(results) { rec, _ in
                      rec.epoch == 0 || rec.weights[0].turnDegrees <= 0 ? nil : rec.weights[0].turnDegrees
                  }, log: true)
        }
        // The accuracy and the effective step close the first two rows.
        for (row, extra) in zip(grid.indices, [accuracy] + (turn.map { [$0] } ?? [])) { grid[row].append(extra) }
        if grid.isEmpty { grid = [[accuracy]] }
        // The legend: a line per precision (float32 first, as run).
        let legend = series(results) { _, _ in nil }
        let lines = Dictionary(grouping: legend, by: \.opacity).sorted { $0.key > $1.key }.map(\.value)
        return render(grid, title: title, legend: lines)
    }

    static func render(_ grid: [[Panel]], title: String, legend: [[Series]]) -> String {
        let pw = 430.0, ph = 300.0, top = 80.0 + 22 * Double(max(0, legend.count - 1))
        let cols = grid.map(\.count).max() ?? 1
        let width = Double(cols) * pw + 40, height = top + Double(grid.count) * ph + 20
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="26" font-size="17" text-anchor="middle" font-weight="bold">\(escape(title))</text>

        """
        // Legend, each line centred.
        let entry = max(110, 48 + 9.5 * Double(legend.joined().map(\.label.count).max() ?? 0))
        for (row, entries) in legend.enumerated() {
            let x0 = (width - entry * Double(entries.count)) / 2, y = 52 + 22 * Double(row)
            for (i, l) in entries.enumerated() {
                let x = x0 + Double(i) * entry
                s += line(x, y, x + 34, y, l.color, l.dash, 3, opacity: l.opacity) + "<text x=\"\(x + 40)\" y=\"\(y + 5)\" font-size=\"14\">\(l.label)</text>\n"
            }
        }
        for (r, row) in grid.enumerated() {
            for (c, p) in row.enumerated() {
                s += panel(p, x: 20 + Double(c) * pw, y: top + Double(r) * ph, w: pw, h: ph)
            }
        }
        return s + "</svg>\n"
    }

    static func panel(_ p: Panel, x: Double, y: Double, w: Double, h: Double) -> String {
        let left = x + 62, right = x + w - 18, topY = y + 34, bottom = y + h - 50
        let all = p.series.flatMap(\.points)
        guard !all.isEmpty else { return "" }
        let xs = ticks(all.map(\.0).min()!, all.map(\.0).max()!, integer: true)
        let ys = p.log ? logTicks(all.map(\.1).min()!, all.map(\.1).max()!)
                       : ticks(all.map(\.1).min()!, all.map(\.1).max()!, integer: false)
        let scale = { (v: Double) in p.log ? log10(v) : v }
        let (x0, x1, y0, y1) = (xs.first!, xs.last!, scale(ys.first!), scale(ys.last!))
        func px(_ v: Double) -> Double { left + (v - x0) / max(x1 - x0, 1e-300) * (right - left) }
        func py(_ v: Double) -> Double { bottom - (scale(v) - y0) / max(y1 - y0, 1e-300) * (bottom - topY) }
        var s = "<text x=\"\(x + w / 2)\" y=\"\(y + 18)\" font-size=\"14\" text-anchor=\"middle\">\(escape(p.title))</text>\n"
        for t in ys {
            s += line(left, py(t), right, py(t), "#e5e5e5", "", 1)
            s += "<text x=\"\(left - 6)\" y=\"\(py(t) + 4)\" font-size=\"11\" text-anchor=\"end\">\(p.log ? String(format: "%g", t) : label(t, ys))</text>\n"
        }
        for t in xs {
            s += line(px(t), bottom, px(t), bottom + 5, "#333", "", 1)
            s += "<text x=\"\(px(t))\" y=\"\(bottom + 18)\" font-size=\"11\" text-anchor=\"middle\">\(label(t, xs))</text>\n"
        }
        s += line(left, bottom, right, bottom, "#333", "", 1) + line(left, topY, left, bottom, "#333", "", 1)
        s += "<text x=\"\((left + right) / 2)\" y=\"\(bottom + 38)\" font-size=\"12\" text-anchor=\"middle\">epoch</text>\n"
        s += "<text transform=\"translate(\(x + 16) \((topY + bottom) / 2)) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">\(escape(p.yLabel))</text>\n"
        for ser in p.series where !ser.points.isEmpty {
            let d = ser.points.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"2.2\"\(opacity(ser.opacity))\(ser.dash.isEmpty ? "" : " stroke-dasharray=\"\(ser.dash)\"") points=\"\(d)\"/>\n"
            // A line of one or two points is easy to miss: they are marked.
            if ser.points.count <= 2 {
                for (a, b) in ser.points {
                    s += "<circle cx=\"\(fmt(px(a)))\" cy=\"\(fmt(py(b)))\" r=\"4\" fill=\"\(ser.color)\"\(opacity(ser.opacity))/>\n"
                }
            }
        }
        return s
    }

    /// Round tick values covering [lo, hi]: 4 to 8 steps of 1, 2 or 5 × 10^k.
    static func ticks(_ lo: Double, _ hi: Double, integer: Bool) -> [Double] {
        var (lo, hi) = (lo, hi)
        if hi - lo < 1e-12 * max(1, abs(hi)) { (lo, hi) = (lo - max(abs(lo) * 0.05, 0.5), hi + max(abs(hi) * 0.05, 0.5)) }
        let raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw }!
        if integer { step = max(1, step.rounded()) }
        let first = floor(lo / step) * step, last = ceil(hi / step) * step
        return stride(from: first, through: last + step / 2, by: step).map { $0 }
    }

    /// 1, 2 and 5 × 10^k from the decade below `lo` to the one above `hi`
    /// (only the powers of ten when that spans more than three decades).
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let first = Int(floor(log10(lo))), last = Int(ceil(log10(hi)))
        let mantissas: [Double] = last - first > 3 ? [1] : [1, 2, 5]
        let all = (first...last).flatMap { k in mantissas.map { $0 * pow(10, Double(k)) } }
        let below = all.last { $0 <= lo } ?? all.first!, above = all.first { $0 >= hi } ?? all.last!
        return all.filter { $0 >= below && $0 <= above }
    }

    static func label(_ v: Double, _ all: [Double]) -> String {
        let step = all.count > 1 ? all[1] - all[0] : 1
        let digits = max(0, -Int(floor(log10(step) + 1e-9)))
        return String(format: "%.\(digits)f", v)
    }
    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: String, _ dash: String, _ width: Double,
                     opacity o: Double = 1) -> String {
        "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(color)\" stroke-width=\"\(width)\"\(opacity(o))\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>\n"
    }
    static func opacity(_ o: Double) -> String { o == 1 ? "" : " opacity=\"\(o)\"" }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
#endif
