import AdamPKit
import BenchSupport

/// One optimizer under test: `name`'s over fresh parameters of `shapes`
/// (random values and gradients) of type `S`, with the options' kernels and
/// master weights, and the gradients to prepare before each timed step.
struct Subject<S: AdamPScalar> {
    let optimizer: any Optimizer<S>
    let params: [Parameter<S>]
    let marked: [Bool]
    let gradients: GradientKind

    init(_ name: String, shapes: [[Int]], model: String, o: Options) throws {
        params = shapes.map { Parameter<S>(shape: $0) }
        Gradients.fill(params)
        marked = Gradients.normalised(model: model, shapes: shapes)
        gradients = o.gradients
        let b = Benchmarked.all[name]!
        optimizer = try b.make(params, marked: o.ruled && b.projects ? marked : nil, master: o.master)
        try optimizer.setKernelOptions(KernelOptions(isa: o.isa, threads: o.threads, blockSize: o.block))
    }

    /// Untimed, before each round: orthogonal gradients made orthogonal to
    /// the weights as they are now.
    func prepare() {
        if gradients == .orthogonal { Gradients.orthogonalise(params, marked) }
    }
}

extension Options {
    /// The threads a step runs on (0: the OpenMP default).
    var threadCount: Int { threads > 0 ? threads : KernelOptions.defaultThreads }
}
