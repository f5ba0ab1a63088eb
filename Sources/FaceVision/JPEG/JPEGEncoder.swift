internal import CTurboJPEG

/// Encodes ``BGRImage`` as baseline JPEG with libjpeg-turbo (test fixtures, MJPEG replay files).
///
/// Not `Sendable`: a TurboJPEG handle keeps per-call state. Use one encoder per thread.
public final class JPEGEncoder {
    private let handle: tjhandle

    /// - Throws: ``JPEGError/libraryUnavailable(message:)`` when `tjInitCompress` fails.
    public init() throws(JPEGError) {
        guard let handle = tjInitCompress() else {
            throw .libraryUnavailable(message: String(cString: tjGetErrorStr2(nil)))
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Encodes with 4:2:0 chroma subsampling. The corresponding C function is `tjCompress2`.
    /// - Parameter quality: 1…100.
    public func encode(_ image: BGRImage, quality: Int = 90) throws(JPEGError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(
                handle,
                src.baseAddress,
                Int32(image.width),
                Int32(image.stride),
                Int32(image.height),
                Int32(TJPF_BGR.rawValue),
                &output,
                &size,
                Int32(TJSAMP_420.rawValue),
                Int32(max(1, min(100, quality))),
                0
            )
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else { throw .encodingFailed(message: String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    /// Encodes packed CMYK samples (4 bytes a pixel) as a YCCK JPEG, as print workflows write: a fixture for the
    /// decoder's colour-space check. The corresponding C function is `tjCompress2` with `TJPF_CMYK`.
    public func encodeCMYK(width: Int, height: Int, pixels: [UInt8], quality: Int = 90) throws(JPEGError) -> [UInt8] {
        guard width > 0, height > 0, pixels.count == width * height * 4 else {
            throw .encodingFailed(message: "expected \(width)x\(height)x4 CMYK bytes, got \(pixels.count)")
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(width), Int32(width * 4), Int32(height), Int32(TJPF_CMYK.rawValue),
                        &output, &size, Int32(TJSAMP_444.rawValue), Int32(max(1, min(100, quality))), 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else { throw .encodingFailed(message: String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
