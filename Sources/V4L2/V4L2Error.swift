import Glibc

/// A V4L2 failure, read as a sentence. Calls that failed carry the errno the kernel (or libv4l2) gave.
public enum V4L2Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// `v4l2_open` failed.
    case open(String, Int32)
    /// `VIDIOC_<name>` failed, e.g. `.ioctl("DQBUF", 19)` when the camera was unplugged.
    case ioctl(String, Int32)
    /// `v4l2_mmap` of a capture buffer failed.
    case mmap(Int32)
    /// `poll` failed.
    case poll(Int32)
    /// The device cannot capture video (`V4L2_CAP_VIDEO_CAPTURE`) with streaming I/O (`V4L2_CAP_STREAMING`).
    case notACaptureDevice(path: String, card: String)
    /// None of the wanted pixel formats is offered.
    case noSupportedFormat(wanted: [PixelFormat], offered: [PixelFormat])
    /// The driver replaced the requested pixel format with another one.
    case formatRejected(requested: PixelFormat, got: PixelFormat)
    /// The driver granted no capture buffers.
    case noBuffers

    /// The errno of a failed call, if any.
    public var errno: Int32? {
        switch self {
        case .open(_, let code), .ioctl(_, let code), .mmap(let code), .poll(let code): code
        default: nil
        }
    }

    /// The device is gone (unplugged, driver unloaded) rather than misconfigured: reopen later.
    public var deviceLost: Bool {
        guard let errno else { return false }
        return [ENODEV, EIO, ENXIO, ENOENT].contains(errno)
    }

    public var description: String {
        switch self {
        case .open(let path, let code): "cannot open \(path): \(Self.text(code))"
        case .ioctl(let name, let code): "VIDIOC_\(name) failed: \(Self.text(code))"
        case .mmap(let code): "mapping a capture buffer failed: \(Self.text(code))"
        case .poll(let code): "waiting for a frame failed: \(Self.text(code))"
        case .notACaptureDevice(let path, let card):
            "\(path) (\(card)) is not a video capture device with streaming I/O"
        case .noSupportedFormat(let wanted, let offered):
            "the camera offers \(offered.map(\.description).joined(separator: ", ")), none of \(wanted.map(\.description).joined(separator: ", "))"
        case .formatRejected(let requested, let got): "the driver replaced the pixel format \(requested) with \(got)"
        case .noBuffers: "the driver granted no capture buffers"
        }
    }

    static func text(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
