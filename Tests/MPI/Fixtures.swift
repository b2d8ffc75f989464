import Foundation
import AdamPKit
import AdamPDistributed

/// Every trajectory in ../shared/fixtures (or $ADAMP_FIXTURES), replayed by
/// one process and by the sharded optimizer: bitwise the same after every
/// step, under every ISA this CPU has. (That one process matches the
/// recorded trajectories is AdamPKitTests' FixtureReplayTests.)
enum FixtureReplay {
    static var directory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["ADAMP_FIXTURES"] ?? "../shared/fixtures")
    }

    static func run(_ h: Harness) throws -> Int {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        h.check(files.count >= 16, "found \(files.count) fixtures in \(directory.path)")
        for file in files {
            let sd = try StateDict(contentsOf: directory.appendingPathComponent(file))
            for isa in KernelISA.allCases where isa != .auto && isa.isSupported {
                if sd.metadata["dtype"] == "float64" {
                    try replay(Double.self, sd, "\(file) [\(isa)]", isa, h)
                } else {
                    try replay(Float.self, sd, "\(file) [\(isa)]", isa, h)
                }
            }
        }
        return files.count
    }

    static func json(_ sd: StateDict, _ key: String) -> Any? {
        sd.metadata[key].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }

    static func replay<T: AdamPScalar & SafetensorsElement>(_: T.Type, _ sd: StateDict, _ what: String, _ isa: KernelISA,
                                                         _ h: Harness) throws {
        let names = json(sd, "params") as! [String]
        let hp = (json(sd, "hparams") as! [String: Any])
        let number = { (k: String) in (hp[k] as? NSNumber)?.doubleValue }
        let flag = { (k: String) in (hp[k] as? NSNumber).map { $0.doubleValue != 0 } }
        let betas = (hp["betas"] as? [NSNumber])?.map(\.doubleValue)
        let shapes = names.map { sd.tensors["\($0).init"]!.shape }
        let initial = { (i: Int) -> [T] in sd.tensors["\(names[i]).init"]!.values(as: T.self)! }
        func go<O: Optimizer>(_ make: @escaping ([Parameter<T>]) throws -> O) throws where O.Scalar == T {
            let pair = try Pair<O>(shapes, initial, world: h.world) { ps in
                let o = try make(ps)
                try o.setKernelOptions(KernelOptions(isa: isa))
                return o
            }
            for k in 0..<Int(sd.metadata["steps"]!)! {
                pair.setGradients(names.map { sd.tensors["\($0).grad.\(k)"]?.values(as: T.self) })
                try pair.step()
                pair.compare(h, "\(what) step \(k)")
            }
        }
        switch sd.metadata["optimizer"]! {
        case "AdamP":
            var x = AdamP<T>.Hyperparameters()
            x.learningRate = number("lr") ?? x.learningRate
            x.eps = number("eps") ?? x.eps
            x.weightDecay = number("weight_decay") ?? x.weightDecay
            x.delta = number("delta") ?? x.delta
            x.wdRatio = number("wd_ratio") ?? x.wdRatio
            x.nesterov = flag("nesterov") ?? x.nesterov
            if let b = betas { x.betas = (b[0], b[1]) }
            try go { ps in let o = try AdamP(parameters: ps); try o.setHyperparameters(x, group: 0); return o }
        case "SGDP":
            var x = SGDP<T>.Hyperparameters(learningRate: number("lr")!)
            x.momentum = number("momentum") ?? x.momentum
            x.dampening = number("dampening") ?? x.dampening
            x.weightDecay = number("weight_decay") ?? x.weightDecay
            x.eps = number("eps") ?? x.eps
            x.delta = number("delta") ?? x.delta
            x.wdRatio = number("wd_ratio") ?? x.wdRatio
            x.nesterov = flag("nesterov") ?? x.nesterov
            try go { ps in let o = try SGDP(parameters: ps, learningRate: x.learningRate); try o.setHyperparameters(x, group: 0); return o }
        case "Adam", "AdamW":
            func fill<W>(_ x: inout AdamHyperparameters<W>) {
                x.learningRate = number("lr") ?? x.learningRate
                x.eps = number("eps") ?? x.eps
                x.weightDecay = number("weight_decay") ?? x.weightDecay
                x.amsgrad = flag("amsgrad") ?? x.amsgrad
                x.maximize = flag("maximize") ?? x.maximize
                if let b = betas { x.betas = (b[0], b[1]) }
            }
            if sd.metadata["optimizer"] == "Adam" {
                var x = Adam<T>.Hyperparameters()
                fill(&x)
                try go { ps in let o = try Adam(parameters: ps); try o.setHyperparameters(x, group: 0); return o }
            } else {
                var x = AdamW<T>.Hyperparameters()
                fill(&x)
                try go { ps in let o = try AdamW(parameters: ps); try o.setHyperparameters(x, group: 0); return o }
            }
        case "SGD":
            var x = SGD<T>.Hyperparameters()
            x.learningRate = number("lr") ?? x.learningRate
            x.momentum = number("momentum") ?? x.momentum
            x.dampening = number("dampening") ?? x.dampening
            x.weightDecay = number("weight_decay") ?? x.weightDecay
            x.nesterov = flag("nesterov") ?? x.nesterov
            x.maximize = flag("maximize") ?? x.maximize
            try go { ps in let o = try SGD(parameters: ps); try o.setHyperparameters(x, group: 0); return o }
        case let other:
            h.check(false, "\(what): unknown optimizer \(other)")
        }
    }
}
