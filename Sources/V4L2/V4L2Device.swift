import CV4L2
import Glibc

/// A video capture node opened through libv4l2: capabilities, format negotiation and mmap streaming.
///
/// Every call blocks at most as long as its timeout says and must run on a dedicated thread, never on
/// Swift's cooperative pool. The device owns its descriptor and its mapped buffers: when it goes away,
/// streaming is stopped, the buffers are unmapped and the descriptor is closed.
public struct V4L2Device: ~Copyable {
    /// The path it was opened with (a `/dev/v4l/by-id/…` symlink works too).
    public let path: String
    /// `VIDIOC_QUERYCAP`'s answer.
    public let info: DeviceInfo
    /// The negotiated format, once ``negotiate(preferring:width:height:framesPerSecond:)`` succeeded.
    public private(set) var format: StreamFormat?
    // Declared before the descriptor: unmapped before it is closed.
    private var buffers = MappedBuffers()
    private let descriptor: DeviceDescriptor
    private var streaming = false

    private static let captureType = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
    private static let mmapMemory = V4L2_MEMORY_MMAP.rawValue

    /// Opens `path` non-blocking and checks that it is a capture device with streaming I/O.
    /// - Throws: ``V4L2Error/open(_:_:)``, ``V4L2Error/ioctl(_:_:)`` (`QUERYCAP`), or
    ///   ``V4L2Error/notACaptureDevice(path:card:)``.
    public init(path: String) throws(V4L2Error) {
        let descriptor = try DeviceDescriptor(path: path, flags: O_RDWR | O_NONBLOCK | O_CLOEXEC)
        var capability = v4l2_capability()
        try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_QUERYCAP, "QUERYCAP", &capability)
        let all = Capabilities(rawValue: capability.capabilities)
        let node = all.contains(.deviceCapabilities) ? Capabilities(rawValue: capability.device_caps) : all
        let info = DeviceInfo(driver: Self.string(capability.driver), card: Self.string(capability.card),
                              busInfo: Self.string(capability.bus_info), capabilities: node)
        guard node.isSuperset(of: [.videoCapture, .streaming]) else {
            throw .notACaptureDevice(path: path, card: info.card)
        }
        self.path = path
        self.info = info
        self.descriptor = descriptor
    }

    deinit {
        if streaming {
            var type = Self.captureType
            try? Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_STREAMOFF, "STREAMOFF", &type)
        }
    }

    /// The pixel formats the device captures natively (`VIDIOC_ENUM_FMT`), without libv4l2's emulated ones.
    public func formats() throws(V4L2Error) -> [PixelFormat] {
        var formats: [PixelFormat] = []
        for index in UInt32(0)..<64 {
            var description = v4l2_fmtdesc()
            description.index = index
            description.type = Self.captureType
            do {
                try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_ENUM_FMT, "ENUM_FMT", &description)
            } catch where error.errno == EINVAL {
                break
            }
            if description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) == 0 {
                formats.append(PixelFormat(rawValue: description.pixelformat))
            }
        }
        return formats
    }

    /// Picks the first of `preferred` that the device offers, asks for `width`×`height` (drivers round
    /// to what they support) and, where the driver allows it, `framesPerSecond`.
    /// - Returns: what the driver granted.
    /// - Throws: ``V4L2Error/noSupportedFormat(wanted:offered:)`` or a failed ioctl.
    @discardableResult
    public mutating func negotiate(preferring preferred: [PixelFormat], width: Int, height: Int,
                                   framesPerSecond: Double?) throws(V4L2Error) -> StreamFormat {
        let offered = try formats()
        // A loopback device with no producer yet lists nothing; ask for the first choice anyway.
        guard let choice = offered.isEmpty ? preferred.first : preferred.first(where: offered.contains) else {
            throw .noSupportedFormat(wanted: preferred, offered: offered)
        }
        var format = v4l2_format()
        format.type = Self.captureType
        format.fmt.pix.width = UInt32(width)
        format.fmt.pix.height = UInt32(height)
        format.fmt.pix.pixelformat = choice.rawValue
        format.fmt.pix.field = V4L2_FIELD_ANY.rawValue
        try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_S_FMT, "S_FMT", &format)
        let granted = PixelFormat(rawValue: format.fmt.pix.pixelformat)
        guard granted == choice || (granted.isJPEG && choice.isJPEG) else {
            throw .formatRejected(requested: choice, got: granted)
        }
        var result = StreamFormat(pixelFormat: granted, width: Int(format.fmt.pix.width), height: Int(format.fmt.pix.height),
                                  bytesPerLine: Int(format.fmt.pix.bytesperline), frameSize: Int(format.fmt.pix.sizeimage))
        if let framesPerSecond {
            result.framesPerSecond = setFrameRate(framesPerSecond)
        }
        self.format = result
        return result
    }

    /// `VIDIOC_S_PARM` with `timeperframe` = 1/fps, when `V4L2_CAP_TIMEPERFRAME` says the driver takes it.
    /// - Returns: the rate granted, or `nil` when the driver has no say in it.
    private func setFrameRate(_ framesPerSecond: Double) -> Double? {
        var parameters = v4l2_streamparm()
        parameters.type = Self.captureType
        guard (try? Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_G_PARM, "G_PARM", &parameters)) != nil,
              parameters.parm.capture.capability & UInt32(V4L2_CAP_TIMEPERFRAME) != 0
        else { return nil }
        parameters.parm.capture.timeperframe.numerator = 1000
        parameters.parm.capture.timeperframe.denominator = UInt32(framesPerSecond * 1000)
        guard (try? Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_S_PARM, "S_PARM", &parameters)) != nil else { return nil }
        let granted = parameters.parm.capture.timeperframe
        return granted.numerator == 0 ? nil : Double(granted.denominator) / Double(granted.numerator)
    }

    /// Requests `count` mmap buffers (`VIDIOC_REQBUFS`), maps and queues them, and starts streaming.
    public mutating func startStreaming(bufferCount count: Int = 4) throws(V4L2Error) {
        var request = v4l2_requestbuffers()
        request.count = UInt32(count)
        request.type = Self.captureType
        request.memory = Self.mmapMemory
        try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_REQBUFS, "REQBUFS", &request)
        guard request.count > 0 else { throw .noBuffers }
        var regions: [MappedBuffers.Region] = []
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.index = index
            buffer.type = Self.captureType
            buffer.memory = Self.mmapMemory
            try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_QUERYBUF, "QUERYBUF", &buffer)
            do {
                let address = try Syscalls.mmap(descriptor.fd, length: Int(buffer.length), offset: Int64(buffer.m.offset))
                regions.append(.init(address: address, length: Int(buffer.length)))
            } catch {
                buffers = MappedBuffers(regions: regions)
                throw error
            }
        }
        buffers = MappedBuffers(regions: regions)
        for index in 0..<request.count {
            try queue(index)
        }
        var type = Self.captureType
        try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_STREAMON, "STREAMON", &type)
        streaming = true
    }

    /// The number of mapped buffers.
    public var bufferCount: Int { buffers.regions.count }

    /// Waits up to `timeout` for a filled buffer.
    /// - Returns: `false` on timeout.
    public func waitForFrame(timeout: Duration) throws(V4L2Error) -> Bool {
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        return try Syscalls.pollReadable(descriptor.fd, timeoutMilliseconds: Int32(clamping: milliseconds))
    }

    /// Dequeues every filled buffer, gives all but the newest straight back to the driver, copies the
    /// newest and requeues it too: a slow consumer always gets the latest picture, never a backlog.
    /// - Returns: `nil` when no buffer was ready.
    /// - Throws: ``V4L2Error/ioctl(_:_:)`` (`DQBUF`, errno `ENODEV` when the camera was unplugged).
    public func newestFrame() throws(V4L2Error) -> CapturedFrame? {
        var newest: v4l2_buffer?
        var dropped = 0
        while true {
            // After the first buffer, take more only when poll says one is ready (no EAGAIN round trip).
            if newest != nil, try !Syscalls.pollReadable(descriptor.fd, timeoutMilliseconds: 0) { break }
            var buffer = v4l2_buffer()
            buffer.type = Self.captureType
            buffer.memory = Self.mmapMemory
            do {
                try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_DQBUF, "DQBUF", &buffer)
            } catch where error.errno == EAGAIN {
                break
            }
            if let older = newest {
                try queue(older.index)
                dropped += 1
            }
            newest = buffer
        }
        guard let newest else { return nil }
        let region = buffers.regions[Int(newest.index)]
        let count = min(Int(newest.bytesused), region.length)
        let bytes = Array(UnsafeRawBufferPointer(start: region.address, count: count))
        try queue(newest.index)
        return CapturedFrame(bytes: bytes, sequence: newest.sequence, dropped: dropped,
                             flaggedError: newest.flags & UInt32(V4L2_BUF_FLAG_ERROR) != 0)
    }

    /// `VIDIOC_STREAMOFF`: the driver takes every buffer back.
    public mutating func stopStreaming() throws(V4L2Error) {
        guard streaming else { return }
        var type = Self.captureType
        streaming = false
        try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_STREAMOFF, "STREAMOFF", &type)
    }

    private func queue(_ index: UInt32) throws(V4L2Error) {
        var buffer = v4l2_buffer()
        buffer.index = index
        buffer.type = Self.captureType
        buffer.memory = Self.mmapMemory
        try Syscalls.ioctl(descriptor.fd, GATE_VIDIOC_QBUF, "QBUF", &buffer)
    }

    private static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// One frame copied out of a capture buffer.
public struct CapturedFrame: Sendable {
    /// The frame's bytes: one JPEG for MJPEG, `height` rows of `bytesPerLine` for YUYV.
    public var bytes: [UInt8]
    /// The driver's frame counter (`sequence`).
    public var sequence: UInt32
    /// Older filled buffers handed back unread to keep only the newest.
    public var dropped: Int
    /// The driver flagged the buffer as damaged (`V4L2_BUF_FLAG_ERROR`).
    public var flaggedError: Bool
}

/// The descriptor from `v4l2_open`; `v4l2_close`d when it goes away.
struct DeviceDescriptor: ~Copyable {
    let fd: Int32

    init(path: String, flags: Int32) throws(V4L2Error) {
        fd = try Syscalls.open(path, flags: flags)
    }

    deinit { Syscalls.close(fd) }
}

/// Capture buffers mapped with `v4l2_mmap`; `v4l2_munmap`ped when they go away.
struct MappedBuffers: ~Copyable {
    struct Region {
        var address: UnsafeMutableRawPointer
        var length: Int
    }

    let regions: [Region]

    init(regions: [Region] = []) { self.regions = regions }

    deinit {
        for region in regions { Syscalls.munmap(region.address, length: region.length) }
    }
}
