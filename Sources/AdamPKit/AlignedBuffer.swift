/// Memory for tensors and state, aligned to a cache line. With malloc's
/// 16-byte alignment, most 64-byte vector accesses straddle two cache lines.
/// (Alignment did not explain the slow runs seen while tuning; see schedule.c.)
enum Aligned {
    static let alignment = 64

    /// `count` elements (at least one), uninitialised.
    static func allocate<T>(_: T.Type = T.self, count: Int) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<T>.stride, alignment: alignment)
            .bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    static func deallocate<T>(_ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).deallocate()
    }

    /// `count` rounded up to whole cache lines of T, so that a buffer placed
    /// after it in the same allocation is aligned too.
    static func padded<T>(_ count: Int, of _: T.Type) -> Int {
        let perLine = Swift.max(alignment / MemoryLayout<T>.stride, 1)
        return count / perLine * perLine + (count % perLine == 0 ? 0 : perLine) // no overflow below Int.max
    }
}
