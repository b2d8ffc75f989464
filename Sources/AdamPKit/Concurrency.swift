// The threading rule, in one place: an optimizer and its parameters belong to
// one thread (or task) at a time. A step reads and writes every parameter's
// values and the optimizer's state without locks (a lock per step would be
// cheap, but two steps at once would still be a race on the values, and a
// parameter shared by two optimizers could not be guarded by either), so
// `step()` from two threads on one optimizer, or on two optimizers that share
// a `Parameter`, at the same time loses updates and step counts.
//
// Swift 6's checker enforces what it can: neither parameters nor optimizers
// are `Sendable`, so code in the Swift 6 language mode cannot hand one to
// another isolation domain (a detached task, another actor) while it is still
// used here. These unavailable conformances state that on purpose, so that no
// later `Sendable` conformance slips in. Moving the whole training loop (the
// optimizer with all its parameters) to another thread is fine; the OpenMP
// threads of one step are the library's own business.
//
// A parameter may belong to several optimizers (to compare them on the same
// weights, say): each one's step() updates it. Step them one after another,
// never at once.

@available(*, unavailable, message: "a Parameter belongs to one thread at a time (see Concurrency.swift)")
extension Parameter: Sendable {}
@available(*, unavailable, message: "an optimizer belongs to one thread at a time (see Concurrency.swift)")
extension AdamP: Sendable {}
@available(*, unavailable, message: "an optimizer belongs to one thread at a time (see Concurrency.swift)")
extension SGDP: Sendable {}
@available(*, unavailable, message: "an optimizer belongs to one thread at a time (see Concurrency.swift)")
extension AdamOptimizer: Sendable {}
@available(*, unavailable, message: "an optimizer belongs to one thread at a time (see Concurrency.swift)")
extension SGD: Sendable {}
