#if BLAS
import Foundation

/// The demo's output files: checked before training, written in one line
/// of error when they cannot be (Foundation's own error is a dump of its
/// NSError).
public enum Outputs {
    /// Why `path` cannot be written, or nil: its folder is missing, not a
    /// folder or not writable, or `path` is a folder.
    public static func problem(writing path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            return "\(path) is a folder"
        }
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            return "cannot write \(path): the folder \(folder) does not exist"
        }
        guard isFolder.boolValue else { return "cannot write \(path): \(folder) is not a folder" }
        guard access(folder, W_OK) == 0 else { return "cannot write \(path): the folder \(folder) is not writable" }
        return nil
    }

    /// Writes `text` to `path` atomically; nil, or what went wrong in one line.
    public static func write(_ text: String, to path: String) -> String? {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
            return "cannot write \(path): \(problem(writing: path) ?? reason)"
        }
    }
}
#endif
