import CV4L2

/// What a V4L2 device can do (`struct v4l2_capability`'s `device_caps`, or `capabilities` for old drivers).
public struct Capabilities: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The corresponding C constant is `V4L2_CAP_VIDEO_CAPTURE`.
    public static let videoCapture = Capabilities(rawValue: UInt32(V4L2_CAP_VIDEO_CAPTURE))
    /// The corresponding C constant is `V4L2_CAP_VIDEO_CAPTURE_MPLANE` (not supported by optgate).
    public static let videoCaptureMultiplanar = Capabilities(rawValue: UInt32(V4L2_CAP_VIDEO_CAPTURE_MPLANE))
    /// The corresponding C constant is `V4L2_CAP_VIDEO_OUTPUT`.
    public static let videoOutput = Capabilities(rawValue: UInt32(V4L2_CAP_VIDEO_OUTPUT))
    /// The corresponding C constant is `V4L2_CAP_READWRITE`.
    public static let readWrite = Capabilities(rawValue: UInt32(V4L2_CAP_READWRITE))
    /// The corresponding C constant is `V4L2_CAP_STREAMING`.
    public static let streaming = Capabilities(rawValue: UInt32(V4L2_CAP_STREAMING))
    /// The corresponding C constant is `V4L2_CAP_DEVICE_CAPS`.
    public static let deviceCapabilities = Capabilities(rawValue: UInt32(V4L2_CAP_DEVICE_CAPS))
}

/// The identity and capabilities of an open device (`VIDIOC_QUERYCAP`).
public struct DeviceInfo: Sendable, Hashable {
    /// `driver`, e.g. "uvcvideo", "vivid", "v4l2 loopback".
    public var driver: String
    /// `card`: the device's name.
    public var card: String
    /// `bus_info`, e.g. "usb-0000:00:14.0-1".
    public var busInfo: String
    /// The node's own capabilities (`device_caps` when `V4L2_CAP_DEVICE_CAPS` is set).
    public var capabilities: Capabilities
}
