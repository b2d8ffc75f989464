#if MPI
import Foundation
import AdamPKit
import AdamPDistributed
import FixtureSupport

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

    /// One fixture's trajectory, in one process and sharded, compared after every step.
    struct Replay<T: AdamPScalar & SafetensorsElement>: FixtureOptimizerUse {
        let sd: StateDict, what: String, isa: KernelISA, h: Harness

        func use<O: Optimizer>(_ make: @escaping ([Parameter<T>]) throws -> O) throws where O.Scalar == T {
            let names = json(sd, "params") as! [String]
            let shapes = names.map { sd.tensors["\($0).init"]!.shape }
            let pair = try Pair<O>(shapes, { sd.tensors["\(names[$0]).init"]!.values(as: T.self)! }, world: h.world) { ps in
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
    }

    static func replay<T: AdamPScalar & SafetensorsElement>(_: T.Type, _ sd: StateDict, _ what: String, _ isa: KernelISA,
                                                         _ h: Harness) throws {
        try FixtureOptimizer.make(sd.metadata["optimizer"]!, hparams: json(sd, "hparams") as! [String: Any],
                                  Replay<T>(sd: sd, what: what, isa: isa, h: h))
    }
}
#endif
