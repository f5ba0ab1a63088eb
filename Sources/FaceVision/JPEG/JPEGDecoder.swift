internal import CTurboJPEG

/// Decodes JPEG (and MJPEG frames) to ``BGRImage`` with libjpeg-turbo's TurboJPEG API.
///
/// The header is read first and checked against ``maximumPixels`` before any pixel buffer is allocated, so a small
/// file that claims 10000x10000 is refused cheaply. Progressive scans are limited (`TJFLAG_LIMITSCANS`).
///
/// After any failed decode the TurboJPEG handle is replaced: libjpeg-turbo can leave a handle in a broken state after
/// an error (one corrupt MJPEG frame made every later clean frame fail with "Bogus Huffman table definition").
///
/// CMYK and YCCK JPEGs (print workflows) are refused as ``JPEGError/unsupportedColourSpace(_:)``.
///
/// Not `Sendable`: a TurboJPEG handle keeps per-call state. Use one decoder per thread.
public final class JPEGDecoder {
    /// Largest `width * height` accepted.
    public let maximumPixels: Int
    /// When `false` (the default), any libjpeg warning ("Corrupt JPEG data: …") fails the decode; when `true`, only
    /// truncation does, and images with other recoverable damage (common in webcam MJPEG) are returned.
    public let acceptsRecoverableDamage: Bool
    private var handle: tjhandle

    /// - Parameters:
    ///   - maximumPixels: largest `width * height` to decode; the default fits 4096x4096.
    ///   - acceptsRecoverableDamage: see ``acceptsRecoverableDamage``.
    /// - Throws: ``JPEGError/libraryUnavailable(message:)`` when `tjInitDecompress` fails.
    public init(maximumPixels: Int = 4096 * 4096, acceptsRecoverableDamage: Bool = false) throws(JPEGError) {
        guard let handle = tjInitDecompress() else {
            throw .libraryUnavailable(message: String(cString: tjGetErrorStr2(nil)))
        }
        self.handle = handle
        self.maximumPixels = maximumPixels
        self.acceptsRecoverableDamage = acceptsRecoverableDamage
    }

    deinit { tjDestroy(handle) }

    /// Reads only the header, without applying ``maximumPixels``. The corresponding C function is
    /// `tjDecompressHeader3`.
    /// - Returns: the image size the header declares, in pixels.
    public func dimensions(of jpeg: some Collection<UInt8>) throws(JPEGError) -> (width: Int, height: Int) {
        try recovering { () throws(JPEGError) in try header(Array(jpeg), enforcingLimit: false) }
    }

    /// Decodes `jpeg` to packed BGR (`stride == 3 * width`). The corresponding C function is `tjDecompress2`.
    /// - Throws: ``JPEGError``: `.empty`, `.notJPEG`, `.truncated`, `.tooLarge` (before allocating), `.corrupt`.
    public func decode(_ jpeg: some Collection<UInt8>) throws(JPEGError) -> BGRImage {
        try recovering { () throws(JPEGError) in try decodeWithHandle(Array(jpeg)) }
    }

    /// Runs `body`; when it fails, replaces the handle so the next call starts from a clean state.
    private func recovering<T>(_ body: () throws(JPEGError) -> T) throws(JPEGError) -> T {
        do {
            return try body()
        } catch {
            if let fresh = tjInitDecompress() {
                tjDestroy(handle)
                handle = fresh
            }
            throw error
        }
    }

    private func decodeWithHandle(_ bytes: [UInt8]) throws(JPEGError) -> BGRImage {
        let (width, height) = try header(bytes, enforcingLimit: true)
        let stride = width * 3
        var pixels = [UInt8](repeating: 0, count: stride * height)
        let status = bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(
                    handle,
                    src.baseAddress,
                    UInt(src.count),
                    dst.baseAddress,
                    Int32(width),
                    Int32(stride),
                    Int32(height),
                    Int32(TJPF_BGR.rawValue),
                    TJFLAG_LIMITSCANS
                )
            }
        }
        if status != 0 {
            let message = String(cString: tjGetErrorStr2(handle))
            let isWarning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
            if isWarning, acceptsRecoverableDamage, let fresh = tjInitDecompress() {
                // The image is returned, but the handle is not trusted for the next one.
                tjDestroy(handle)
                handle = fresh
            }
            if message.contains("Premature end") { throw .truncated }
            if !(isWarning && acceptsRecoverableDamage) { throw .corrupt(message: message) }
        }
        do {
            return try BGRImage(width: width, height: height, stride: stride, pixels: pixels)
        } catch {
            throw .corrupt(message: error.description)
        }
    }

    private func header(_ bytes: [UInt8], enforcingLimit: Bool) throws(JPEGError) -> (width: Int, height: Int) {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw .notJPEG }
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let status = bytes.withUnsafeBufferPointer { src in
            tjDecompressHeader3(handle, src.baseAddress, UInt(src.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else {
            let message = String(cString: tjGetErrorStr2(handle))
            if message.contains("Premature end") || message.contains("no image") { throw .truncated }
            throw .corrupt(message: message)
        }
        guard width > 0, height > 0 else { throw .corrupt(message: "the header declares \(width)x\(height)") }
        switch colorspace {
        case Int32(TJCS_CMYK.rawValue): throw .unsupportedColourSpace("CMYK")
        case Int32(TJCS_YCCK.rawValue): throw .unsupportedColourSpace("YCCK (CMYK)")
        default: break
        }
        let (pixelCount, overflow) = Int(width).multipliedReportingOverflow(by: Int(height))
        guard !enforcingLimit || (!overflow && pixelCount <= maximumPixels) else {
            throw .tooLarge(width: Int(width), height: Int(height), maximumPixels: maximumPixels)
        }
        return (Int(width), Int(height))
    }
}
