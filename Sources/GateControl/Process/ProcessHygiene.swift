import CGateShims
import Glibc

/// What both executables do first, before they open any file: files they create are not
/// world-readable, and (the daemon, which holds the device keys and camera frames in memory) the
/// process cannot dump core nor be read by another process of the same user.
public enum ProcessHygiene {
    /// The file-creation mask of both executables: owner read/write, group read, others nothing. The
    /// unit sets the same (`UMask=0027`); this covers runs outside systemd (`optgate init`, tests, demo).
    static let fileCreationMask: mode_t = 0o027

    /// Sets the umask to `fileCreationMask`.
    public static func restrictFileCreation() {
        umask(fileCreationMask)
    }

    /// No core dumps and no ptrace by the same user: `prctl(PR_SET_DUMPABLE, 0)` and `RLIMIT_CORE` 0.
    /// A crash then leaves no file holding keys, frames or templates, and `/proc/<pid>/mem`, `environ`
    /// and friends belong to root. - Returns: a sentence when the kernel refused (never fatal).
    @discardableResult
    public static func forbidCoreDumps() -> String? {
        // Under systemd `LimitCORE=0` has set it already (and `SystemCallFilter=~@resources` refuses setrlimit).
        var limit = rlimit()
        var limited = getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) == 0 && limit.rlim_cur == 0 && limit.rlim_max == 0
        var code: Int32 = 0
        if !limited {
            limit = rlimit(rlim_cur: 0, rlim_max: 0)
            limited = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) == 0
            code = limited ? 0 : errno
        }
        guard gate_set_dumpable(0) == 0 else {
            return "prctl(PR_SET_DUMPABLE, 0) failed with errno \(errno); core dumps may hold keys"
        }
        return limited ? nil : "setrlimit(RLIMIT_CORE, 0) failed with errno \(code); PR_SET_DUMPABLE 0 still applies"
    }
}
