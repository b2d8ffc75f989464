import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file so that a reader sees the old file or the new one, never a
/// part: the bytes go to a temporary file in the same folder (so that the
/// rename stays on one file system), are flushed to disk, and the temporary
/// file is renamed over the target. On any failure the temporary file is
/// removed and the target is untouched.
enum AtomicFile {
    /// The system calls used, replaceable so that a test can make one fail
    /// (a full disk) at any point.
    struct IO {
        var write: (Int32, UnsafeRawBufferPointer) -> Int = { fd, b in Glibc.write(fd, b.baseAddress, b.count) }
        var fsync: (Int32) -> Int32 = { Glibc.fsync($0) }
        var rename: (String, String) -> Int32 = { Glibc.rename($0, $1) }
    }

    /// ".NAME.tmp-PID-RANDOM", NAME cut (on a character) so that the whole
    /// fits in a file name's 255 bytes: a legal name of 235 bytes or more
    /// made one too long, and the save failed.
    static func temporaryName(for name: String) -> String {
        let suffix = ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var kept = Substring(name)
        while 1 + kept.utf8.count + suffix.utf8.count > 255 { kept = kept.dropLast() }
        return "." + kept + suffix
    }

    static func write(_ bytes: Data, to url: URL, io: IO = IO()) throws {
        let target = url.standardizedFileURL.path
        let folder = url.standardizedFileURL.deletingLastPathComponent().path
        func fail(_ what: String, _ code: Int32 = errno) -> OptimizerError {
            .checkpointWriteFailed(file: target, reason: "\(what): \(String(cString: strerror(code)))")
        }
        let temp = folder + "/" + temporaryName(for: url.lastPathComponent)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create a temporary file in \(folder)") }
        var closed = false
        do {
            try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var done = 0
                while done < raw.count {
                    let n = io.write(fd, UnsafeRawBufferPointer(rebasing: raw[done...]))
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw fail("writing \(raw.count) bytes stopped after \(done)", n == 0 ? ENOSPC : errno) }
                    done += n
                }
            }
            guard io.fsync(fd) == 0 else { throw fail("flushing to disk failed") }
            closed = true
            guard close(fd) == 0 else { throw fail("closing failed") }
            guard io.rename(temp, target) == 0 else { throw fail("renaming the temporary file over it failed") }
        } catch {
            if !closed { close(fd) }
            unlink(temp)
            throw error
        }
        // Make the rename itself durable (best effort: some file systems refuse).
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = io.fsync(dir); close(dir) }
    }
}
