#if MPI
import Foundation
import AdamPKit
internal import CAdamPMPI

/// Consolidated checkpoints: one file, the format `Optimizer.save(to:)`
/// writes, whatever the number of ranks; so a run moves between N ranks and
/// one process. Rank r's rows of each state buffer are rows of the whole
/// buffer, in rank order (the partition is contiguous), so consolidating is
/// concatenating and loading is slicing.
extension ShardedOptimizer {
    /// Writes the whole optimizer's state to `url` from rank `root`
    /// (atomically: a file already there is replaced whole or left as it was).
    /// Collective. The file is byte for byte the one `Base.save(to:)` writes
    /// after the same steps in one process.
    /// - Throws: On every rank: `OptimizerError.checkpointWriteFailed` on
    ///   `root` (the others: `DistributedError.failedOnAnotherRank` with its
    ///   message), `.mpiFailed`.
    public func save(to url: URL, root: Int = 0) throws {
        let mine = (try? base.stateDict().safetensors()) ?? Data()
        var gathered: UnsafeMutableRawPointer?
        var lens = [Int](repeating: 0, count: communicator.size)
        var e = adamp_mpi_error()
        let status = mine.withUnsafeBytes { adamp_mpi_gather_bytes(shard, $0.baseAddress, $0.count, Int32(root), &gathered, &lens, &e) }
        defer { free(gathered) }
        try DistributedError.check(status, e)
        var failure = ""
        if communicator.rank == root {
            do {
                var at = 0
                let parts = try lens.map { n -> StateDict in
                    defer { at += n }
                    return try StateDict(safetensors: Data(bytes: gathered! + at, count: n))
                }
                try consolidate(parts).write(to: url)
            } catch {
                failure = "\(error)"
            }
        }
        let verdict = try broadcast(Data(failure.utf8), from: root)
        guard verdict.isEmpty else {
            if communicator.rank == root {
                throw OptimizerError.checkpointWriteFailed(file: url.path, reason: failure)
            }
            throw DistributedError.failedOnAnotherRank("rank \(root) could not write \(url.path): \(String(decoding: verdict, as: UTF8.self))")
        }
    }

    /// Loads a checkpoint written by `save(to:)`, by `Base.save(to:)` in one
    /// process, or by a sharded run on any number of ranks: rank `root` reads
    /// the file and sends it to the others, each takes its rows. Collective.
    /// - Throws: On every rank, having changed nothing on any:
    ///   `OptimizerError.invalidCheckpoint` naming the file and the problem
    ///   (`DistributedError.failedOnAnotherRank` where only another rank found
    ///   one), `.mpiFailed`.
    public func load(from url: URL, root: Int = 0) throws {
        // Byte 0 says whether root could read the file; then the file, or why not.
        var payload = Data([0])
        if communicator.rank == root {
            do {
                let size = KernelAccess.elementSizes(of: base)
                payload.append(try KernelAccess.checkpointBytes(url, counts: parameters.map(\.count),
                                                                elementSize: size.state, masterSize: size.master))
            } catch let OptimizerError.invalidCheckpoint(_, problem) {
                payload = Data([1]) + Data(problem.utf8)
            }
        }
        let received = try broadcast(payload, from: root)
        guard received.first == 0 else {
            throw OptimizerError.invalidCheckpoint(file: url.path, problem: String(decoding: received.dropFirst(), as: UTF8.self))
        }
        let before = base.stateDict()
        var failure: Error?
        do {
            let sd = try StateDict(safetensors: Data(received.dropFirst()))
            try base.load(stateDict: try shardOf(sd))
        } catch let OptimizerError.invalidCheckpoint(_, problem) {
            failure = OptimizerError.invalidCheckpoint(file: url.path, problem: problem)
        } catch {
            failure = error
        }
        var e = adamp_mpi_error()
        let all = adamp_mpi_all(shard, failure == nil ? 1 : 0, &e)
        if all < 0 { try DistributedError.check(Int32(ADAMP_MPI_E_MPI), e) }
        if all == 1 { return }
        if let failure { throw failure }
        try base.load(stateDict: before) // as it was: another rank refused the file
        throw DistributedError.failedOnAnotherRank("another rank could not load \(url.path) (see its error)")
    }

    /// Root's bytes on every rank.
    private func broadcast(_ data: Data, from root: Int) throws -> Data {
        var out: UnsafeMutableRawPointer?
        var len = data.count
        var e = adamp_mpi_error()
        let status = data.withUnsafeBytes { adamp_mpi_bcast_bytes(shard, $0.baseAddress, &len, Int32(root), &out, &e) }
        defer { free(out) }
        try DistributedError.check(status, e)
        return Data(bytes: out!, count: len)
    }

    /// For each parameter of `base` (in its order), the index of its whole parameter.
    private var wholeOfBase: [Int] {
        let index = Dictionary(uniqueKeysWithValues: shards.enumerated().map { (ObjectIdentifier($1), $0) })
        return base.parameters.map { index[ObjectIdentifier($0)]! }
    }

    /// The ranks' state dicts (rank order) as one process's.
    private func consolidate(_ parts: [StateDict]) throws -> StateDict {
        let whole = wholeOfBase
        var out = parts[0]
        out.metadata["parameters"] = KernelAccess.parametersMetadata(whole.map { (parameters[$0].name, parameters[$0].shape) })
        for (key, first) in parts[0].tensors where !key.hasSuffix(".step") {
            guard let j = Self.index(key), whole.indices.contains(j) else { continue }
            var data = Data()
            for part in parts {
                guard let t = part.tensors[key] else { throw DistributedError.invalidInput("a rank's state has no \(key)") }
                data.append(t.data)
            }
            out.tensors[key] = .init(dtype: first.dtype, shape: parameters[whole[j]].shape, data: data)
        }
        return out
    }

    /// `sd` (a whole optimizer's) cut to this rank's rows, for `base`.
    private func shardOf(_ sd: StateDict) throws -> StateDict {
        let whole = wholeOfBase
        let listed = (sd.metadata["parameters"]?.data(using: .utf8))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [[String: Any]] }
        let names = listed?.map { $0["name"] as? String } ?? []
        // The file's entries matched to base's parameters as base.load matches
        // them; where they cannot be, base.load says what is wrong.
        guard listed?.count == whole.count,
              let entry = KernelAccess.checkpointEntries(fileNames: names, names: base.parameters.map(\.name))
        else { return sd }
        var parameterOf = [Int](repeating: 0, count: names.count) // entry j -> index in `parameters`
        for (i, j) in entry.enumerated() { parameterOf[j] = whole[i] }
        var out = sd
        for (key, t) in sd.tensors where !key.hasSuffix(".step") {
            guard let j = Self.index(key), parameterOf.indices.contains(j) else { continue }
            let p = parameters[parameterOf[j]], r = rows[parameterOf[j]]
            guard t.shape == p.shape else {
                throw OptimizerError.invalidCheckpoint(file: nil, problem: "\(key) has shape \(t.shape); its parameter has shape \(p.shape)")
            }
            let rowBytes = p.count == 0 ? 0 : t.data.count / max(p.channelRows, 1)
            let from = t.data.startIndex + r.first * rowBytes
            out.tensors[key] = .init(dtype: t.dtype, shape: shards[parameterOf[j]].shape,
                                     data: t.data[from..<from + r.count * rowBytes])
        }
        out.metadata["parameters"] = KernelAccess.parametersMetadata(names.indices.map { (names[$0], shards[parameterOf[$0]].shape) })
        return out
    }

    /// j of "state.<j>.<name>".
    private static func index(_ key: String) -> Int? {
        let parts = key.split(separator: ".")
        return parts.count >= 3 && parts[0] == "state" ? Int(parts[1]) : nil
    }
}
#endif
