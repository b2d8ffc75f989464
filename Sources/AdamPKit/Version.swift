internal import CAdamP

/// This package's version, which is the C library's (`ADAMP_VERSION_*` in
/// adamp.h, the one place it is written; see CHANGELOG.md).
public enum AdamPVersion {
    public static let major = Int(ADAMP_VERSION_MAJOR)
    public static let minor = Int(ADAMP_VERSION_MINOR)
    public static let patch = Int(ADAMP_VERSION_PATCH)
    /// "MAJOR.MINOR.PATCH", as the linked C library reports it (`adamp_version()`).
    public static var string: String { String(cString: adamp_version()) }
}
