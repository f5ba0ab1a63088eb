internal import CFaceVision

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#endif

/// Helpers shared by the wrappers of `cface.h`. The only file that turns C status codes into Swift errors.
enum CFace {
    static let errorCapacity = 512

    /// Runs a `cface_*` call with an error buffer and maps a negative status to ``FaceVisionError``.
    /// - Parameter modelPath: the file named in `.modelInvalid` when the status is `CFACE_ERROR_MODEL`.
    @discardableResult
    static func call(
        modelPath: String = "",
        _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32
    ) throws(FaceVisionError) -> Int32 {
        var buffer = [CChar](repeating: 0, count: errorCapacity)
        let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        guard status < 0 else { return status }
        let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch status {
        case Int32(CFACE_ERROR_MODEL): throw .modelInvalid(path: modelPath, message: message)
        case Int32(CFACE_ERROR_ARGUMENT): throw .invalidArgument(message: message)
        default: throw .inferenceFailed(message: message)
        }
    }

    /// Checks that `path` is a readable file before the C++ side sees it, so a missing model reads as such.
    static func checkReadable(_ path: String) throws(FaceVisionError) {
        guard access(path, R_OK) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .modelMissing(path: path) }
            throw .modelUnreadable(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// `directory/name` without doubling the slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
