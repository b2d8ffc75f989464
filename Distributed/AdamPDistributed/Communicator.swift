#if MPI
internal import CAdamPMPI
internal import CMPI

/// The processes a sharded optimizer spans: MPI's world, the processes
/// `mpirun -np N` started.
public final class Communicator {
    let comm: MPI_Comm
    /// This process's rank, 0 to `size - 1`.
    public let rank: Int
    /// The number of processes.
    public let size: Int

    private init(comm: MPI_Comm) throws {
        self.comm = comm
        var r: Int32 = 0, s: Int32 = 0
        try DistributedError.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try DistributedError.check(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        (rank, size) = (Int(r), Int(s))
    }

    /// Every process of the job. Starts MPI if nothing has (and then ends it
    /// when the process exits); run under `mpirun` for more than one process
    /// (without it, the world is this process alone).
    /// - Throws: `DistributedError.mpiFailed` with MPI's message.
    public static func world() throws -> Communicator {
        var world: MPI_Comm? = nil
        var e = adamp_mpi_error()
        try DistributedError.check(adamp_mpi_init_world(&world, &e), e)
        return try Communicator(comm: world!)
    }
}

/// What went wrong in a collective call. Every rank of the call throws: the
/// one whose input was bad (or where MPI failed) says what, the others say
/// that another rank failed.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call failed; the message is MPI's own (MPI_Error_string).
    case mpiFailed(String)
    /// The ranks were not given the same parameters, shapes, hyperparameters
    /// or gradients (which parameters have one); says what differs.
    case ranksDisagree(String)
    /// This rank's input was fine; another rank's was not (its error says why).
    case failedOnAnotherRank(String)
    /// This rank's input is not valid (the C library's word for it).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .mpiFailed(m): "MPI failed: \(m)"
        case let .ranksDisagree(m): "the ranks disagree: \(m)"
        case let .failedOnAnotherRank(m): m
        case let .invalidInput(m): "invalid input: \(m)"
        }
    }

    static func check(_ status: Int32, _ e: adamp_mpi_error) throws {
        guard status != 0 else { return }
        let message = withUnsafeBytes(of: e.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch status {
        case Int32(ADAMP_MPI_E_MPI): throw mpiFailed(message)
        case Int32(ADAMP_MPI_E_DISAGREE): throw ranksDisagree(message)
        case Int32(ADAMP_MPI_E_OTHER_RANK): throw failedOnAnotherRank(message)
        default: throw invalidInput(message)
        }
    }

    static func check(_ code: Int32, _ what: String) throws {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var len: Int32 = 0
        MPI_Error_string(code, &text, &len)
        throw mpiFailed("\(what): \(String(decoding: text.prefix(Int(len)).map { UInt8(bitPattern: $0) }, as: UTF8.self))")
    }
}
#endif
