internal import CAdamP

/// The instruction sets the kernels are written for. The raw values are the
/// C library's names (`adamp_isa_name`), as `$ADAMP_ISA` takes them.
public enum KernelISA: CaseIterable, Sendable, RawRepresentable {
    /// `$ADAMP_ISA` if it names one this CPU has, else the best this CPU has.
    case auto
    /// Portable C: the reference the others are tested against.
    case scalar
    /// x86-64 AVX2 + FMA.
    case avx2
    /// x86-64 AVX-512F.
    case avx512
    /// x86-64 AVX-512 with BF16 (Zen 4, Sapphire Rapids): AVX-512F's kernels,
    /// bfloat16 rounded in one instruction.
    case avx512bf16

    /// Whether this CPU and this build have it.
    public var isSupported: Bool { adamp_isa_supported(cValue) != 0 }

    /// What `.auto` resolves to here.
    public static var selected: KernelISA {
        KernelISA(rawValue: String(cString: adamp_isa_name(adamp_isa_selected(ADAMP_ISA_AUTO)))) ?? .scalar
    }

    var cValue: adamp_isa {
        switch self {
        case .auto: ADAMP_ISA_AUTO
        case .scalar: ADAMP_ISA_SCALAR
        case .avx2: ADAMP_ISA_AVX2
        case .avx512: ADAMP_ISA_AVX512
        case .avx512bf16: ADAMP_ISA_AVX512_BF16
        }
    }

    public var rawValue: String { String(cString: adamp_isa_name(cValue)) }
    public init?(rawValue: String) {
        guard let isa = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = isa
    }
}

/// How an optimizer's steps run. Results are bitwise identical for any
/// `threads` and `blockSize`; the ISA changes only the rounding of sums.
public struct KernelOptions: Equatable, Sendable {
    /// Which kernels.
    public var isa: KernelISA
    /// Threads of the OpenMP runtime, 0 to `maxThreads`; 0: its default
    /// (`OMP_NUM_THREADS`, else the cores); 1: the calling thread only.
    public var threads: Int
    /// Elements per cache block (statistics then update per block); 0: the
    /// default (2^20).
    public var blockSize: Int

    public init(isa: KernelISA = .auto, threads: Int = 0, blockSize: Int = 0) {
        self.isa = isa
        self.threads = threads
        self.blockSize = blockSize
    }

    /// The most threads an optimizer may be given (the C library's
    /// `ADAMP_MAX_THREADS`). A step uses at most one per 16,384 elements,
    /// and one below 131,072.
    public static let maxThreads = Int(ADAMP_MAX_THREADS)

    /// The number of threads `threads: 0` means here.
    public static var defaultThreads: Int { Int(adamp_default_threads()) }

    func validated() throws -> adamp_config {
        guard isa.isSupported else { throw OptimizerError.unsupportedISA(isa.rawValue) }
        guard threads >= 0, threads <= KernelOptions.maxThreads else {
            throw OptimizerError.invalidHyperparameter(name: "threads", value: Double(threads),
                                                       rule: "must be in [0, \(KernelOptions.maxThreads)]", group: nil)
        }
        guard blockSize >= 0 else {
            throw OptimizerError.invalidHyperparameter(name: "blockSize", value: Double(blockSize), rule: "must be >= 0", group: nil)
        }
        return adamp_config(isa: isa.cValue, threads: Int32(threads), block: Int64(blockSize))
    }
}
