import Foundation
internal import CAdamP

/// An optimizer's state dict, laid out as PyTorch lays out an optimizer's
/// `state_dict()` (specified in docs/checkpoint-format.md): tensors
/// `state.<index>.<buffer>` and `state.<index>.step`, index being the
/// parameter's position over the groups, each in its own dtype (with master
/// weights: `Float` state, and `state.<index>.master_param` (F32) or
/// `state.<index>.master_trail` (U16)); metadata `param_groups` (JSON, with
/// PyTorch's keys), `parameters` (each one's name and shape), `optimizer`,
/// `dtype` (the parameters'), `master_weights` (when not "off"), `format`
/// and `format_version`.
enum Checkpoint {
    static let format = "swift-adamp.optimizer"
    /// The version written. A later version's file is refused; an earlier
    /// one's missing fields take their defaults.
    static let version = 1

    struct Problem: Error { let message: String; init(_ m: String) { message = m } }

    /// The most bytes a checkpoint of parameters of `counts` elements can
    /// take: the largest header the reader takes, and every state buffer and
    /// step count (an I64) they can have (Int.max where that overflows).
    static func byteLimit(counts: [Int], elementSize: Int, masterSize: Int = 0) -> Int {
        var n = Safetensors.maxHeaderBytes + 8
        for c in counts {
            let (bytes, o1) = c.multipliedReportingOverflow(by: elementSize * Int(ADAMP_MAX_STATES) + masterSize)
            let (sum, o2) = n.addingReportingOverflow(bytes &+ 8)
            if o1 || o2 { return .max }
            n = sum
        }
        return n
    }

    /// For each of an optimizer's parameters (`names`), the index of its entry
    /// among a checkpoint's (`fileNames`, as many): by name when every one on
    /// both sides has a name, else by position.
    static func match(fileNames: [String?], names: [String?]) throws -> [Int] {
        guard names.allSatisfy({ $0 != nil }), fileNames.allSatisfy({ $0 != nil }) else {
            for (i, (a, b)) in zip(names, fileNames).enumerated() {
                if let a, let b, a != b {
                    throw Problem("parameter \(i) is named \"\(a)\" here but \"\(b)\" in the checkpoint")
                }
            }
            return Array(names.indices)
        }
        var index: [String: Int] = [:]
        for (j, n) in fileNames.enumerated() {
            guard index.updateValue(j, forKey: n!) == nil else {
                throw Problem("the checkpoint names two parameters \"\(n!)\"")
            }
        }
        var seen = Set<String>()
        return try names.map { n in
            guard seen.insert(n!).inserted else { throw Problem("this optimizer has two parameters named \"\(n!)\"") }
            guard let j = index[n!] else { throw Problem("parameter \"\(n!)\" is not in the checkpoint") }
            return j
        }
    }
}

extension OptimizerCore {
    private var algorithmName: String { String(cString: adamp_algorithm_name(algorithm)) }
    private var dtypeName: String { Scalar.safetensorsDType }
    /// The state buffers' dtype: the parameters', or F32 with master weights.
    private var stateDTypeName: String { master == ADAMP_MASTER_OFF ? dtypeName : Float.safetensorsDType }
    private var masterDTypeName: String { masterBuffer?.dtype ?? "" }
    private var masterName: String { String(cString: adamp_master_name(master)) }

    func stateDict() -> StateDict {
        var tensors: [String: StateDict.Tensor] = [:]
        for i in parameters.indices {
            let (step, buffers, master) = savedState(i)
            guard step > 0 else { continue } // PyTorch keeps no state before the first step
            tensors["state.\(i).step"] = .init(shape: [], values: [step])
            for (k, b) in buffers.enumerated() {
                tensors["state.\(i).\(String(cString: adamp_state_name(algorithm, Int32(k))))"] =
                    .init(dtype: stateDTypeName, shape: parameters[i].shape, data: Data(b))
            }
            if let master, let name = masterBuffer?.name {
                tensors["state.\(i).\(name)"] = .init(dtype: masterDTypeName, shape: parameters[i].shape, data: Data(master))
            }
        }
        let groupJSON = groups.indices.map { g -> JSON in
            var members = Self.torchFields(groups[g])
            if let initial = initialLearningRates[g] { members.append(("initial_lr", JSON(initial))) }
            members.append(("params", .array(parameters.indices.filter { groupOfParameter[$0] == g }.map(JSON.init))))
            return .object(members)
        }
        var metadata = [
            "format": Checkpoint.format, "format_version": "\(Checkpoint.version)", "optimizer": algorithmName,
            "dtype": dtypeName, "param_groups": JSON.array(groupJSON).text,
            "parameters": KernelAccess.parametersMetadata(parameters.map { ($0.name, $0.shape) }),
        ]
        if master != ADAMP_MASTER_OFF { metadata["master_weights"] = masterName }
        return StateDict(tensors: tensors, metadata: metadata)
    }

    /// A group's hyperparameters under PyTorch's keys, in the struct's order
    /// (`betas` as a pair).
    private static func torchFields(_ h: H) -> [(key: String, value: JSON)] {
        var out: [(key: String, value: JSON)] = []
        for f in H.fields where !(f.ownField && f.get(h) == 0) {
            let (key, index) = f.torchKey
            let v: JSON = f.isFlag ? .bool(f.get(h) != 0) : JSON(f.get(h))
            if index != nil, let at = out.firstIndex(where: { $0.key == key }), case let .array(a) = out[at].value {
                out[at].value = .array(a + [v])
            } else {
                out.append((key, index == nil ? v : .array([v])))
            }
        }
        return out
    }

    /// Loads `sd`, or throws `.invalidCheckpoint(file: nil, …)` having
    /// changed nothing: everything is read and checked first.
    func load(_ sd: StateDict) throws {
        do {
            let plan = try plan(sd)
            restore(groups: plan.groups, steps: plan.steps, buffers: plan.buffers, masters: plan.masters)
            initialLearningRates = plan.initialRates
        } catch let p as Checkpoint.Problem {
            throw OptimizerError.invalidCheckpoint(file: nil, problem: p.message)
        }
    }

    /// The most bytes a checkpoint of this optimizer can take: the largest
    /// header the reader takes, and every state buffer and step count (an
    /// I64) it can have. A larger file is refused before it is read.
    var checkpointByteLimit: Int {
        Checkpoint.byteLimit(counts: parameters.map(\.count), elementSize: stateElement,
                             masterSize: masterBuffer?.element ?? 0)
    }

    private func plan(_ sd: StateDict) throws
        -> (groups: [H], initialRates: [Double?], steps: [Int64], buffers: [[Data]], masters: [Data?]) {
        // A state dict made in memory may hold anything: every tensor's
        // bytes must be what its dtype and shape say, as in a file.
        for name in sd.tensors.keys.sorted() {
            let t = sd.tensors[name]!
            if let problem = Safetensors.bytesProblem(dtype: t.dtype, shape: t.shape, bytes: t.data.count) {
                throw Checkpoint.Problem("tensor \"\(name)\" \(problem)")
            }
        }
        let m = sd.metadata
        guard m["format"] == Checkpoint.format else {
            throw Checkpoint.Problem("not an optimizer checkpoint of swift-adamp (metadata format is \(m["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(Checkpoint.format)\")")
        }
        guard let v = m["format_version"].flatMap(Int.init), v >= 1 else {
            throw Checkpoint.Problem("format_version \(m["format_version"].map { "\"\($0)\"" } ?? "missing") is not a version number")
        }
        guard v <= Checkpoint.version else {
            throw Checkpoint.Problem("format version \(v) is newer than this library reads (up to \(Checkpoint.version)): update swift-adamp")
        }
        guard m["optimizer"] == algorithmName else {
            throw Checkpoint.Problem("holds the state of optimizer \"\(m["optimizer"] ?? "?")\", not of \"\(algorithmName)\"")
        }
        guard m["dtype"] == dtypeName else {
            throw Checkpoint.Problem("holds \(m["dtype"] ?? "?") state; this optimizer's parameters are \(dtypeName)")
        }
        let fileMaster = m["master_weights"] ?? String(cString: adamp_master_name(ADAMP_MASTER_OFF))
        guard fileMaster == masterName else {
            throw Checkpoint.Problem("holds the state of master weights \"\(fileMaster)\"; this optimizer keeps \"\(masterName)\"")
        }
        let fileParams = try json(m, "parameters").array ?? []
        guard fileParams.count == parameters.count else {
            throw Checkpoint.Problem("holds \(fileParams.count) parameters; this optimizer has \(parameters.count)")
        }
        let fileGroup = try fileGroups(json(m, "param_groups"), count: fileParams.count)
        let source = try match(fileParams)
        var newGroups: [H] = []
        var initialRates: [Double?] = []
        for (g, j) in fileGroup.json.enumerated() {
            newGroups.append(try hyperparameters(j, group: g))
            // A schedule's base rate (PyTorch's initial_lr), if one was attached.
            let initial = j["initial_lr"].flatMap { $0.isNull ? nil : $0 }
            guard initial == nil || initial!.double.map({ $0.isFinite && $0 >= 0 }) == true else {
                throw Checkpoint.Problem("param_groups[\(g)].initial_lr is \(initial!.text), not a finite number >= 0")
            }
            initialRates.append(initial?.double)
        }
        var steps: [Int64] = []
        var buffers: [[Data]] = []
        var masters: [Data?] = []
        var used = Set<String>()
        for i in parameters.indices {
            let j = source[i], p = parameters[i]
            guard fileGroup.of[j] == groupOfParameter[i] else {
                throw Checkpoint.Problem("\(p.label) is in parameter group \(fileGroup.of[j]) of the checkpoint but in group \(groupOfParameter[i]) here")
            }
            if let shape = fileParams[j]["shape"], !shape.isNull, shape.array?.compactMap(\.int) != p.shape {
                throw Checkpoint.Problem("\(p.label) has shape \(p.shape) here but \(shape.text) in the checkpoint")
            }
            let (step, bufs) = try state(of: p, at: j, sd, used: &used)
            let needed = step > 0 ? newGroups[groupOfParameter[i]].stateCount : 0
            guard bufs.count >= needed else {
                let name = String(cString: adamp_state_name(algorithm, Int32(bufs.count)))
                throw Checkpoint.Problem("\(p.label) has taken \(step) steps but state.\(j).\(name) is missing")
            }
            do { try checkStateFits(i, buffers: max(bufs.count, newGroups[groupOfParameter[i]].stateCount)) } catch {
                throw Checkpoint.Problem("\(p.label): \(error)")
            }
            steps.append(step)
            buffers.append(bufs)
            masters.append(try masterState(of: p, at: j, step: step, sd, used: &used))
        }
        if let extra = sd.tensors.keys.sorted().first(where: { !used.contains($0) }) {
            throw Checkpoint.Problem("tensor \"\(extra)\" is not part of a \(algorithmName) state dict")
        }
        return (newGroups, initialRates, steps, buffers, masters)
    }

    /// Parameter `p`'s master (or trail) from the file's index `j`: there
    /// once it has stepped, with master weights; nil without them.
    private func masterState(of p: Parameter<Scalar>, at j: Int, step: Int64, _ sd: StateDict,
                             used: inout Set<String>) throws -> Data? {
        guard let name = masterBuffer?.name else { return nil }
        let key = "state.\(j).\(name)"
        guard let t = sd.tensors[key] else {
            if step > 0 { throw Checkpoint.Problem("\(p.label) has taken \(step) steps but \(key) is missing") }
            return nil
        }
        used.insert(key)
        guard t.dtype == masterDTypeName, t.shape == p.shape else {
            throw Checkpoint.Problem("\(key) is \(t.dtype) of shape \(t.shape); \(p.label)'s is \(masterDTypeName) of shape \(p.shape)")
        }
        guard step > 0 else { throw Checkpoint.Problem("\(p.label) has a \(key) but no state.\(j).step") }
        return t.data
    }

    private func json(_ m: [String: String], _ key: String) throws -> JSON {
        guard let text = m[key] else { throw Checkpoint.Problem("metadata \(key) is missing") }
        do { return try JSON.parse(Array(text.utf8)) } catch let e as JSON.ParseError {
            throw Checkpoint.Problem("metadata \(key) is not valid JSON: \(e.message)")
        }
    }

    /// The groups, and the file group of each file index; every index in
    /// exactly one group, the group sizes as here.
    private func fileGroups(_ j: JSON, count: Int) throws -> (json: [JSON], of: [Int]) {
        guard let groupsJSON = j.array else { throw Checkpoint.Problem("param_groups is not a list") }
        guard groupsJSON.count == groups.count else {
            throw Checkpoint.Problem("holds \(groupsJSON.count) parameter groups; this optimizer has \(groups.count)")
        }
        var of = [Int](repeating: -1, count: count)
        for (g, group) in groupsJSON.enumerated() {
            guard let list = group["params"]?.array else { throw Checkpoint.Problem("param_groups[\(g)] has no params list") }
            let here = groupOfParameter.filter { $0 == g }.count
            guard list.count == here else {
                throw Checkpoint.Problem("param_groups[\(g)] holds \(list.count) parameters; group \(g) here has \(here)")
            }
            for x in list {
                guard let k = x.int, of.indices.contains(k), of[k] < 0 else {
                    throw Checkpoint.Problem("param_groups[\(g)].params has \(x.text): not a new index below \(count)")
                }
                of[k] = g
            }
        }
        return (groupsJSON, of)
    }

    /// The file index of each parameter: by name when every parameter here
    /// and in the file has one, else by position (names, where both sides
    /// have one, must then agree).
    private func match(_ fileParams: [JSON]) throws -> [Int] {
        try Checkpoint.match(fileNames: fileParams.map { $0["name"]?.string }, names: parameters.map(\.name))
    }

    /// A group's hyperparameters: the file's values over the defaults (a
    /// field an older file lacks takes its default), checked as an
    /// initialiser checks them. Keys this optimizer does not have (PyTorch's
    /// `foreach`, `fused`, ...) are ignored.
    private func hyperparameters(_ j: JSON, group g: Int) throws -> H {
        var h = H.defaults
        for f in H.fields {
            let (key, index) = f.torchKey
            guard var v = j[key] else { continue }
            let name = "param_groups[\(g)].\(key)"
            if let index {
                guard let pair = v.array, pair.count == 2 else { throw Checkpoint.Problem("\(name) is not a pair") }
                v = pair[index]
            }
            switch (f.isFlag, v) {
            case let (true, .bool(b)): f.set(&h, b ? 1 : 0)
            case (false, .number):
                guard let x = v.double, f.accepts(x) else {
                    throw Checkpoint.Problem("\(name) is \(v.text), not a value \(key) can take")
                }
                f.set(&h, x)
            default: throw Checkpoint.Problem("\(name) is \(v.text), not a \(f.isFlag ? "boolean" : "number")")
            }
        }
        do { try validate(h, group: g) } catch { throw Checkpoint.Problem("param_groups[\(g)]: \(error)") }
        return h
    }

    /// Parameter `p`'s step count and buffers, from the file's index `j`.
    private func state(of p: Parameter<Scalar>, at j: Int, _ sd: StateDict, used: inout Set<String>) throws
        -> (Int64, [Data]) {
        var step: Int64 = 0
        let stepName = "state.\(j).step"
        if let t = sd.tensors[stepName] {
            used.insert(stepName)
            step = try count(t, stepName)
        }
        var buffers: [Data] = []
        for k in 0..<Int(ADAMP_MAX_STATES) {
            guard let c = adamp_state_name(algorithm, Int32(k)) else { break }
            let name = "state.\(j).\(String(cString: c))"
            guard let t = sd.tensors[name] else { break }
            used.insert(name)
            guard t.dtype == stateDTypeName else {
                throw Checkpoint.Problem("\(name) of \(p.label) is \(t.dtype); this optimizer's state is \(stateDTypeName)")
            }
            guard t.shape == p.shape else {
                throw Checkpoint.Problem("\(name) has shape \(t.shape) but \(p.label) has shape \(p.shape)")
            }
            // Values no step writes (from finite gradients): the C library's rule.
            var bad = 0
            let status = t.data.withUnsafeBytes {
                adamp_state_check(algorithm, Int32(k), stateDType, $0.baseAddress, p.count, &bad)
            }
            if status == ADAMP_E_INVALID_STATE {
                let value = t.data.withUnsafeBytes { b in
                    stateDType == ADAMP_F32 ? Double(b.loadUnaligned(fromByteOffset: bad * 4, as: Float.self))
                        : Double(b.loadUnaligned(fromByteOffset: bad * stateElement, as: Scalar.self))
                }
                let why = value.isFinite ? "a second moment is never negative" : "a step from finite gradients leaves state finite"
                throw Checkpoint.Problem("\(name) holds \(value) at element \(bad): \(why)")
            }
            buffers.append(t.data)
        }
        if !buffers.isEmpty, sd.tensors[stepName] == nil {
            throw Checkpoint.Problem("\(p.label) has state buffers but no \(stepName)")
        }
        return (step, buffers)
    }

    /// A step count: one whole number in [0, Int64.max), the counts the C
    /// library steps from, stored as I64 (or, as PyTorch stores Adam's, a
    /// float holding one). The tensor's bytes match its shape (checked first).
    private func count(_ t: StateDict.Tensor, _ name: String) throws -> Int64 {
        guard t.data.count == Safetensors.dtypeSizes[t.dtype] else {
            throw Checkpoint.Problem("\(name) has shape \(t.shape); a step count is one number")
        }
        let x: Double?
        switch t.dtype {
        case "I64":
            guard let v = t.values(as: Int64.self)?.first, v >= 0, v < .max else {
                throw Checkpoint.Problem("\(name) is \(t.values(as: Int64.self)?.first.map { "\($0)" } ?? "?"): a step count is a whole number in [0, 2^63 - 1)")
            }
            return v
        case "F32": x = t.values(as: Float.self)?.first.map(Double.init)
        case "F64": x = t.values(as: Double.self)?.first
        default: throw Checkpoint.Problem("\(name) is \(t.dtype); a step count is I64")
        }
        guard let x, x.isFinite, x >= 0, x == x.rounded(), x < 0x1p63 else {
            throw Checkpoint.Problem("\(name) is \(x.map { "\($0)" } ?? "?"), not a whole number >= 0")
        }
        return Int64(x)
    }
}
