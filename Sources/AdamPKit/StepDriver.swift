internal import CAdamP

/// What every step does before the C library is called, the one-process
/// optimizers' (`OptimizerCore.step`) and the sharded one's alike: take up
/// each parameter's gradient into its descriptor, and find what the step
/// must refuse before it writes anything.
package enum StepDriver {
    /// Sets descriptor `i` of `tensors` (`adamp_tensor`s, one per parameter)
    /// to parameter `i`'s gradient (none: NULL, which skips it) and returns
    /// how many have one. It reads only `gradients`, the parameters' entries
    /// side by side: no generic code, no reference counting and no cache miss
    /// per parameter, as a model may have tens of thousands of tensors.
    /// - Throws: `OptimizerError.gradientCountMismatch` for the first
    ///   parameter whose gradient was set with another count;
    ///   `.stepCountLimit` for the first with a gradient whose step count
    ///   no step can raise (the C library's limit).
    package static func takeGradients<Scalar>(_ parameters: [Parameter<Scalar>], _ gradients: GradientTable,
                                              into tensors: UnsafeMutableRawPointer) throws -> Int {
        let t = tensors.assumingMemoryBound(to: adamp_tensor.self), e = gradients.entries
        var live = 0, mismatched = false, atLimit = -1
        for i in 0..<gradients.count {
            let address = e[i].address
            mismatched = mismatched || e[i].mismatched
            t[i].grad = address
            if address != nil {
                live += 1
                if t[i].step == .max && atLimit < 0 { atLimit = i }
            }
        }
        if mismatched { try Parameter.checkGradientCounts(parameters) }
        if atLimit >= 0 { throw OptimizerError.stepCountLimit(parameter: parameters[atLimit].label) }
        return live
    }
}

extension Parameter {
    /// The columns of the channel view the kernels take (0 for a parameter
    /// of no elements).
    package var channelCols: Int { channelRows == 0 ? 0 : count / channelRows }

    /// Its descriptor: values, shape, the group's hyperparameters; no
    /// gradient, state or steps yet.
    func descriptor(hparams: UnsafePointer<adamp_hparams>?) -> adamp_tensor {
        adamp_tensor(param: UnsafeMutableRawPointer(storage), grad: nil, state0: nil, state1: nil, state2: nil,
                     hparams: hparams, rows: channelRows, cols: channelCols, ndim: Int32(clamping: shape.count),
                     projection: ADAMP_PROJ_SKIPPED.rawValue, step: 0)
    }

    /// Writes its descriptor (`descriptor(hparams: nil)`) to `at`, an
    /// `adamp_tensor`, for a caller that builds its own (AdamPDistributed).
    package func writeDescriptor(to at: UnsafeMutableRawPointer) {
        at.assumingMemoryBound(to: adamp_tensor.self).pointee = descriptor(hparams: nil)
    }
}
