internal import CFaceVision
internal import Synchronization

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

    /// Runs a `cface_*` call that reads `image` and fills `output`, holding `lock` (a model handle serves one
    /// call at a time): `body` gets the pixels, the output buffer and the error buffer.
    @discardableResult
    static func call<Element>(
        lock: borrowing Mutex<Void>,
        image: BGRImage,
        output: inout [Element],
        _ body: (UnsafePointer<UInt8>, UnsafeMutableBufferPointer<Element>, UnsafeMutablePointer<CChar>, Int) -> Int32
    ) throws(FaceVisionError) -> Int32 {
        try lock.withLock { _ throws(FaceVisionError) in
            try image.withUnsafeBytes { pixels throws(FaceVisionError) in
                try output.withUnsafeMutableBufferPointer { buffer throws(FaceVisionError) in
                    try call { error, size in body(pixels, buffer, error, size) }
                }
            }
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
