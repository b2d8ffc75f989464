/// What can go wrong in the demo, each naming what is wrong.
#if BLAS
public enum DemoError: Error, CustomStringConvertible, Equatable {
    case badData(file: String, problem: String)
    case badCheckpoint(file: String, problem: String)
    case badArgument(String)
    case lapack(function: String, info: Int)

    public var description: String {
        switch self {
        case let .badData(file, problem): return "\(file): \(problem)"
        case let .badCheckpoint(file, problem): return "checkpoint \(file): \(problem)"
        case let .badArgument(message): return message
        case let .lapack(function, info): return "\(function) failed (info \(info))"
        }
    }
}
#endif
