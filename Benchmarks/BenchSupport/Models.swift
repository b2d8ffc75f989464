import Foundation

/// Parameter shapes of real models, in the order the models list them; the
/// counts are checked against the reference implementations' totals.
public enum Models {
    public static let all: [String: @Sendable () -> [[Int]]] = [
        "resnet50": { resnet(blocks: [3, 4, 6, 3], bottleneck: true) }, // torchvision: 25,557,032
        "resnet18": { resnet(blocks: [2, 2, 2, 2], bottleneck: false) }, // torchvision: 11,689,512
        "vit-b16": vitB16, // torchvision vit_b_16: 86,567,656
        "bert-base": bertBase, // bert-base-uncased with pooler: 109,482,240
        "gpt2": gpt2, // GPT-2 small, tied head: 124,439,808
        // Not a model: the per-tensor overhead, 20,000 [64, 8] weights (10,240,000).
        "many-small": { Array(repeating: [64, 8], count: 20_000) },
    ]

    static func resnet(blocks: [Int], bottleneck: Bool) -> [[Int]] {
        var shapes: [[Int]] = [[64, 3, 7, 7], [64], [64]]
        func convBN(_ out: Int, _ inp: Int, _ k: Int) { shapes += [[out, inp, k, k], [out], [out]] }
        var inplanes = 64
        let expansion = bottleneck ? 4 : 1
        for (stage, count) in blocks.enumerated() {
            let planes = 64 << stage
            for b in 0..<count {
                if bottleneck {
                    convBN(planes, inplanes, 1)
                    convBN(planes, planes, 3)
                    convBN(planes * 4, planes, 1)
                } else {
                    convBN(planes, inplanes, 3)
                    convBN(planes, planes, 3)
                }
                if b == 0 && (stage > 0 || inplanes != planes * expansion) { convBN(planes * expansion, inplanes, 1) }
                inplanes = planes * expansion
            }
        }
        return shapes + [[1000, inplanes], [1000]]
    }

    static func linear(_ out: Int, _ inp: Int) -> [[Int]] { [[out, inp], [out]] }
    static let norm768: [[Int]] = [[768], [768]]

    static func vitB16() -> [[Int]] {
        var s: [[Int]] = [[1, 1, 768], [768, 3, 16, 16], [768], [1, 197, 768]]
        for _ in 0..<12 {
            s += norm768 + linear(2304, 768) + linear(768, 768) + norm768 + linear(3072, 768) + linear(768, 3072)
        }
        return s + norm768 + linear(1000, 768)
    }

    static func bertBase() -> [[Int]] {
        var s: [[Int]] = [[30522, 768], [512, 768], [2, 768]] + norm768
        for _ in 0..<12 {
            s += linear(768, 768) + linear(768, 768) + linear(768, 768) + linear(768, 768) + norm768
            s += linear(3072, 768) + linear(768, 3072) + norm768
        }
        return s + linear(768, 768)
    }

    /// GPT-2's Conv1D stores weights as [in, out].
    static func gpt2() -> [[Int]] {
        var s: [[Int]] = [[50257, 768], [1024, 768]]
        for _ in 0..<12 {
            s += norm768 + [[768, 2304], [2304], [768, 768], [768]] + norm768 + [[768, 3072], [3072], [3072, 768], [768]]
        }
        return s + norm768
    }

    /// Throws `BenchError` unless `name` is one of `all`.
    public static func check(model name: String) throws {
        guard all[name] == nil else { return }
        throw BenchError("--model \(name): unknown model (one of \(all.keys.sorted().joined(separator: ", ")))")
    }

    /// The shapes a run takes: those of the `--shapes` file if there is one,
    /// else the model's.
    /// - Throws: `BenchError` for an unknown model or a bad file.
    public static func shapes(model: String, file: String?) throws -> [[Int]] {
        if let file { return try load(file) }
        try check(model: model)
        return all[model]!()
    }

    /// A JSON file of shapes: `[[64, 3, 7, 7], [64], ...]` or `{"shapes": [...]}`.
    /// - Throws: `BenchError`, one line naming the file and the problem.
    public static func load(_ path: String) throws -> [[Int]] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BenchError("--shapes \(path): no such file")
        }
        guard !isDirectory.boolValue else { throw BenchError("--shapes \(path): is a directory, not a JSON file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("--shapes \(path): cannot be read") }
        guard let json = try? JSONSerialization.jsonObject(with: data) else {
            throw BenchError("--shapes \(path): not valid JSON")
        }
        let list = (json as? [String: Any])?["shapes"] ?? json
        guard let shapes = list as? [[Int]], !shapes.isEmpty, shapes.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 > 0 } }) else {
            throw BenchError("--shapes \(path): expected a non-empty JSON list of shapes of positive integers, e.g. [[64, 3, 7, 7], [64]]")
        }
        _ = try totalCount(shapes, source: "--shapes \(path)")
        return shapes
    }

    /// The number of parameters, or an error naming `source` if it does not fit in Int.
    public static func totalCount(_ shapes: [[Int]], source: String) throws -> Int {
        var total = 0
        for shape in shapes {
            var n = 1
            for d in shape {
                let (p, o) = n.multipliedReportingOverflow(by: d)
                guard !o else { throw BenchError("\(source): shape \(shape) has more elements than Int can count") }
                n = p
            }
            let (t, o) = total.addingReportingOverflow(n)
            guard !o else { throw BenchError("\(source): the shapes' total element count overflows Int") }
            total = t
        }
        return total
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
