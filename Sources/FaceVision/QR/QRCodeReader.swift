internal import CFaceVision
internal import Synchronization

/// Reads QR codes from camera frames with zxing-cpp (`cqr_reader_*` in cqr.h; Debian's OpenCV cannot decode them).
///
/// Only the code's text comes out: the frame is not kept, and nothing about a face in it is looked at.
///
/// `@unchecked Sendable`: the C handle is immutable after `init` and every use of it happens inside `lock`.
public final class QRCodeReader: @unchecked Sendable {
    /// Longest text returned; a longer code is treated as not read.
    public static let maximumLength = 512
    private let handle: OpaquePointer
    private let lock = Mutex(())

    public init() throws(FaceVisionError) {
        var out: OpaquePointer?
        try CFace.call { error, size in cqr_reader_open(&out, error, size) }
        handle = out!
    }

    deinit { cqr_reader_close(handle) }

    /// - Returns: the text of the QR code in `image`, or `nil` when none was found or decoded.
    public func read(_ image: BGRImage) throws(FaceVisionError) -> String? {
        var text = [CChar](repeating: 0, count: Self.maximumLength + 1)
        let count = try CFace.call(lock: lock, image: image, output: &text) { pixels, buffer, error, size in
            cqr_reader_decode(handle, pixels, Int32(image.width), Int32(image.height), Int32(image.stride),
                              buffer.baseAddress, buffer.count, error, size)
        }
        guard count > 0 else { return nil }
        return String(decoding: text.prefix(Int(count)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// QR codes and PNG files for visitor passes (`cqr_write_png`, `cqr_png_*`).
public enum QRCodeImage {
    /// Writes `text` as a QR code PNG at `path` (`modulePixels` pixels per module, 4-module quiet zone).
    public static func writePNG(_ text: String, to path: String, modulePixels: Int = 8) throws(FaceVisionError) {
        try CFace.call { error, size in cqr_write_png(text, path, Int32(modulePixels), error, size) }
    }

    /// Reads the PNG at `path` as BGR (transparency on white).
    public static func readPNG(_ path: String) throws(FaceVisionError) -> BGRImage {
        var width: Int32 = 0, height: Int32 = 0
        try CFace.call { error, size in cqr_png_size(path, &width, &height, error, size) }
        guard width > 0, height > 0, Int(width) * Int(height) <= 8192 * 8192 else {
            throw .invalidArgument(message: "\(path) is \(width)x\(height) pixels; a QR image is at most 8192x8192")
        }
        var pixels = [UInt8](repeating: 255, count: Int(width) * Int(height) * 3)
        try pixels.withUnsafeMutableBufferPointer { buffer throws(FaceVisionError) in
            _ = try CFace.call { error, size in
                cqr_png_read_bgr(path, buffer.baseAddress, width, height, width * 3, error, size)
            }
        }
        do {
            return try BGRImage(width: Int(width), height: Int(height), pixels: pixels)
        } catch {
            throw .invalidArgument(message: "\(error)")
        }
    }
}
