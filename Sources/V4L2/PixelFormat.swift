import CV4L2

/// A V4L2 pixel format: a FourCC code such as `MJPG` or `YUYV`.
public struct PixelFormat: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Motion JPEG. The corresponding C constant is `V4L2_PIX_FMT_MJPEG`.
    public static let mjpeg = PixelFormat(rawValue: GATE_V4L2_PIX_FMT_MJPEG)
    /// JFIF JPEG (some cameras name their MJPEG stream so). The corresponding C constant is `V4L2_PIX_FMT_JPEG`.
    public static let jpeg = PixelFormat(rawValue: GATE_V4L2_PIX_FMT_JPEG)
    /// Packed YUV 4:2:2, Y0 U Y1 V. The corresponding C constant is `V4L2_PIX_FMT_YUYV`.
    public static let yuyv = PixelFormat(rawValue: GATE_V4L2_PIX_FMT_YUYV)
    /// 8-bit greyscale, one byte per pixel: what near-infrared cameras commonly deliver. The C constant is
    /// `V4L2_PIX_FMT_GREY`.
    public static let grey = PixelFormat(rawValue: GATE_V4L2_PIX_FMT_GREY)

    /// Whether each frame is one JPEG image.
    public var isJPEG: Bool { self == .mjpeg || self == .jpeg }

    /// The four characters, e.g. "MJPG".
    public var description: String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: rawValue >> ($0 * 8)) }
        let printable = bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        return printable ? String(decoding: bytes, as: UTF8.self) : "0x" + String(rawValue, radix: 16)
    }
}

/// The format a stream was negotiated to (`VIDIOC_S_FMT`'s answer).
public struct StreamFormat: Sendable, Hashable, CustomStringConvertible {
    public var pixelFormat: PixelFormat
    public var width: Int
    public var height: Int
    /// Bytes per row (`bytesperline`); 0 for compressed formats.
    public var bytesPerLine: Int
    /// The largest frame in bytes (`sizeimage`).
    public var frameSize: Int
    /// Frames per second granted by `VIDIOC_S_PARM`, when the driver supports setting it.
    public var framesPerSecond: Double?

    public var description: String {
        "\(pixelFormat) \(width)x\(height)" + (framesPerSecond.map { " @ \($0) fps" } ?? "")
    }
}
