/// What an optimizer or a parameter refuses, and why. A call that throws has
/// changed nothing: every parameter and state buffer is as it was.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    /// A hyperparameter is out of range. `name` is the Swift argument label
    /// (`"learningRate"`, `"betas.0"`, ...), `group` the parameter group.
    case invalidHyperparameter(name: String, value: Double, rule: String, group: Int?)
    /// A gradient whose element count differs from its parameter's.
    case gradientCountMismatch(parameter: String, expected: Int, actual: Int)
    /// Initial values whose count differs from the product of the shape.
    case valueCountMismatch(shape: [Int], expected: Int, actual: Int)
    /// A shape with a negative dimension, or whose elements' bytes (or the
    /// optimizer state's) do not fit in `Int`.
    case invalidShape([Int])
    /// The same parameter object appears twice among an optimizer's groups.
    case duplicateParameter(String)
    /// A group index that the optimizer does not have.
    case invalidGroup(Int, groupCount: Int)
    /// Kernel options ask for an instruction set this CPU or build lacks.
    case unsupportedISA(String)
    /// An argument out of range (a schedule's, a clipping norm, a gradient
    /// scale): `name` is its label, `value` what was given.
    case invalidArgument(name: String, value: String, rule: String)
    /// The C kernels returned an unexpected status (a bug: please report it).
    case kernelFailure(String)
    /// A checkpoint (a file, or a state dict in memory when `file` is nil)
    /// that cannot be read or does not fit this optimizer; `problem` says
    /// what is wrong, naming the parameter or tensor where there is one.
    case invalidCheckpoint(file: String?, problem: String)
    /// Saving a checkpoint failed; any file already at `file` is as it was.
    case checkpointWriteFailed(file: String, reason: String)
    /// A parameter with a gradient has taken `Int64.max` steps, the most a
    /// step count holds (only a checkpoint's count of `Int64.max - 1` and a
    /// step reach it): it cannot count another.
    case stepCountLimit(parameter: String)

    public var description: String {
        switch self {
        case let .invalidHyperparameter(name, value, rule, group):
            let at = group.map { " in parameter group \($0)" } ?? ""
            return "invalid hyperparameter \(name) = \(value)\(at): \(rule)"
        case let .gradientCountMismatch(parameter, expected, actual):
            return "gradient of \(parameter) has \(actual) elements, expected \(expected)"
        case let .valueCountMismatch(shape, expected, actual):
            return "shape \(shape) needs \(expected) values, got \(actual)"
        case let .invalidShape(shape):
            return "invalid shape \(shape): dimensions must be >= 0 and the product times the element size must fit in Int"
        case let .duplicateParameter(parameter):
            return "\(parameter) appears more than once in the optimizer's parameter groups"
        case let .invalidGroup(index, count):
            return "parameter group \(index) does not exist (the optimizer has \(count))"
        case let .unsupportedISA(isa):
            return "the \(isa) kernels are not supported on this CPU or in this build"
        case let .invalidArgument(name, value, rule):
            return "invalid argument \(name) = \(value): \(rule)"
        case let .kernelFailure(message):
            return "C kernel failure: \(message)"
        case let .invalidCheckpoint(file, problem):
            return "\(file.map { "checkpoint \($0)" } ?? "state dict"): \(problem)"
        case let .checkpointWriteFailed(file, reason):
            return "cannot save checkpoint \(file): \(reason)"
        case let .stepCountLimit(parameter):
            return "\(parameter) has taken \(Int64.max) steps, the most a step count holds: it cannot take another"
        }
    }
}
