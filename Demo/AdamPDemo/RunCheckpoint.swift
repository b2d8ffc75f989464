#if BLAS
import AdamPKit
import Foundation

/// One optimizer's run saved after an epoch, in one safetensors file
/// written atomically: the optimizer's state dict as the package saves it
/// (`state.*` tensors and its metadata), the model (`model.<name>`: the
/// parameters and BatchNorm's running statistics), the records so far
/// (`demo.history`, [epochs + 1, columns], F64) and the run's settings
/// (metadata `demo.config`), which a resumed run must share.
enum RunCheckpoint {
    static func save<S: DemoScalar>(_ url: URL, _ net: Network, _ optimizer: any Optimizer<S>, config: DemoConfig,
                     records: [EpochRecord], weights: [String]) throws {
        var sd = optimizer.stateDict()
        for (name, shape, m) in net.tensors { sd.tensors["model.\(name)"] = .init(shape: shape, values: Array(m.buffer)) }
        let columns = EpochRecord.columns(weights: weights)
        sd.tensors["demo.history"] = .init(shape: [records.count, columns.count], values: records.flatMap(\.values))
        sd.metadata["demo.config"] = config.fingerprint
        sd.metadata["demo.columns"] = columns.joined(separator: ",")
        try sd.write(to: url)
    }

    /// Restores the network and the optimizer from `url` and returns the
    /// records so far. Everything is checked before anything is changed.
    /// - Throws: `DemoError.badCheckpoint` naming the file and the problem
    ///   (another run's settings, a tensor missing or of the wrong shape, a
    ///   damaged file, an optimizer state that does not fit).
    static func load<S: DemoScalar>(_ url: URL, into net: Network, _ optimizer: any Optimizer<S>, config: DemoConfig,
                     weights: [String]) throws -> [EpochRecord] {
        func problem(_ text: String) -> DemoError { .badCheckpoint(file: url.path, problem: text) }
        let sd: StateDict
        do { sd = try StateDict(contentsOf: url) } catch { throw problem("\(error)") }
        guard let saved = sd.metadata["demo.config"] else { throw problem("not a checkpoint of adamp-demo (no demo.config)") }
        guard saved == config.fingerprint else {
            throw problem("made by a run with other settings; delete it or run with the same settings.\n  saved:    \(saved)\n  this run: \(config.fingerprint)")
        }
        let columns = EpochRecord.columns(weights: weights)
        guard sd.metadata["demo.columns"] == columns.joined(separator: ","),
              let h = sd.tensors["demo.history"], h.shape.count == 2, h.shape[1] == columns.count, h.shape[0] >= 1,
              let history = h.values(as: Double.self) else {
            throw problem("demo.history is missing or not [epochs, \(columns.count)] F64 with columns \(columns.joined(separator: ","))")
        }
        let records = (0..<h.shape[0]).compactMap {
            EpochRecord(values: history[$0 * columns.count..<($0 + 1) * columns.count], weights: weights)
        }
        guard records.count == h.shape[0], records.enumerated().allSatisfy({ $0.offset == $0.element.epoch }),
              records.count <= config.epochs + 1 else {
            throw problem("demo.history's epochs are not 0, 1, ... up to \(config.epochs)")
        }
        var model: [(Matrix, [Float])] = []
        for (name, shape, memory) in net.tensors {
            guard let t = sd.tensors["model.\(name)"], t.shape == shape, let v = t.values(as: Float.self) else {
                throw problem("model.\(name) is missing or not an F32 tensor of shape \(shape)")
            }
            model.append((memory, v))
        }
        guard model.allSatisfy({ $0.1.allSatisfy(\.isFinite) }) else { throw problem("the model holds a NaN or an infinity") }
        let state = StateDict(tensors: sd.tensors.filter { $0.key.hasPrefix("state.") },
                              metadata: sd.metadata.filter { !$0.key.hasPrefix("demo.") })
        do { try optimizer.load(stateDict: state) } catch { throw problem("\(error)") }
        for (memory, values) in model { _ = memory.buffer.update(fromContentsOf: values) }
        net.roundWeights() // bf16: the parameters, from the float32 values saved (exact)
        return records
    }
}
#endif
