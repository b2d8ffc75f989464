import AdamPKit
import Foundation

/// The kernel variants the tests run: every one this CPU has, or those
/// `ADAMP_TEST_ISAS` names, comma-separated (`scripts/test-quick.sh` runs
/// one). A name that is not one of this CPU's ISAs stops the run, rather
/// than test less than was asked.
public let testedISAs: [KernelISA] = {
    let all = KernelISA.allCases.filter { $0 != .auto && $0.isSupported }
    guard let list = ProcessInfo.processInfo.environment["ADAMP_TEST_ISAS"], !list.isEmpty else { return all }
    return list.split(separator: ",").map { name in
        guard let isa = KernelISA(rawValue: String(name)), all.contains(isa) else {
            fatalError("ADAMP_TEST_ISAS: \(name) is not one of this CPU's ISAs (\(all.map(\.rawValue).joined(separator: ", ")))")
        }
        return isa
    }
}()
