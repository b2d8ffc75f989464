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

    /// The bytes of `count` elements of `size` bytes, rounded up to whole
    /// cache lines (so that what follows in one allocation is aligned too);
    /// nil where that overflows.
    static func lineBytes(_ count: Int, size: Int) -> Int? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes <= Int.max - alignment else { return nil }
        return (bytes + alignment - 1) / alignment * alignment
    }

    /// `bytes` (at least one), uninitialised.
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: alignment)
    }

    /// `count` rounded up to whole cache lines of T, so that a buffer placed
    /// after it in the same allocation is aligned too.
    static func padded<T>(_ count: Int, of _: T.Type) -> Int {
        let perLine = Swift.max(alignment / MemoryLayout<T>.stride, 1)
        return count / perLine * perLine + (count % perLine == 0 ? 0 : perLine) // no overflow below Int.max
    }
}
