import FaceVision
import Foundation
public import GateConfiguration
import GateCore
public import Logging
public import V4L2

/// Frames from a V4L2 camera (USB UVC webcam, CSI bridge, v4l2loopback): MJPEG frames pass on as
/// `.jpeg` (decoding, and counting corrupt frames as skipped, is the recogniser's business), YUYV
/// and 8-bit grey (`GREY`, a near-infrared camera's usual format) frames are converted to `.bgr`. The newest frame wins: buffers that filled while the recogniser was
/// busy are handed back to the driver unread.
///
/// A camera that disappears (ENODEV/EIO on unplug, any other streaming error, or no frame for
/// `stallSeconds`) is closed and reopened with backoff (0.5 s doubling to 5 s); "camera lost" is logged
/// once and "camera back" when it returns. Meanwhile `nextFrame` returns `nil` after sleeping at most
/// 250 ms, so the recogniser never spins; card, PIN and door inputs run elsewhere and are unaffected.
///
/// Threads: every call (open, `poll`, `VIDIOC_DQBUF`) happens inside `nextFrame`, which only the
/// recogniser's own thread (`optgate.recognition`) calls.
public final class V4L2FrameSource: FrameSource {
    let configuration: CameraConfiguration
    let logger: Logger
    private let clock = ContinuousClock()
    private var camera: OpenCamera?
    private var lost = false
    private var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(5))
    private var nextAttempt: ContinuousClock.Instant
    private var lastFrame: ContinuousClock.Instant

    /// Opens nothing yet: the first `nextFrame` opens the camera, on the recogniser's thread.
    public init(configuration: CameraConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        nextAttempt = clock.now
        lastFrame = clock.now
    }

    /// The format in use, while the camera is open.
    public var format: StreamFormat? { camera?.format }

    public func nextFrame() throws -> Frame? {
        guard let camera else {
            reconnect()
            return nil
        }
        do {
            guard try camera.device.waitForFrame(timeout: .milliseconds(250)),
                  let captured = try camera.device.newestFrame()
            else {
                let quiet = lastFrame.duration(to: clock.now)
                if quiet > .seconds(configuration.stallSeconds) { lose("no frame for \(quiet)") }
                return nil
            }
            lastFrame = clock.now
            guard !captured.bytes.isEmpty else { return nil }
            let format = camera.format
            if format.pixelFormat.isJPEG { return .jpeg(captured.bytes) }
            let stride = format.bytesPerLine > 0 ? format.bytesPerLine : nil
            if format.pixelFormat == .grey {
                return .bgr(try BGRImage(grey: captured.bytes, width: format.width, height: format.height, stride: stride))
            }
            return .bgr(try BGRImage(yuyv: captured.bytes, width: format.width, height: format.height, stride: stride))
        } catch let error as V4L2Error {
            lose("\(error)")
            return nil
        }
    }

    /// Opens the camera now when it is closed and a reopen is due, without waiting for a frame or sleeping:
    /// a second camera read only after each frame of the first (the infrared one) is streaming by the time
    /// the first frame needs it.
    public func openIfDue() {
        if camera == nil && clock.now >= nextAttempt { reconnect() }
    }

    /// Closes the camera (it reopens on the next `nextFrame` or `openIfDue`), without counting it as lost.
    public func close() {
        camera = nil
    }

    /// Whether the camera is open and streaming.
    public var isOpen: Bool { camera != nil }

    private func lose(_ reason: String) {
        camera = nil
        nextAttempt = clock.now.advanced(by: backoff.current)
        if !lost {
            lost = true
            logger.error("camera lost; retrying, card and PIN unaffected",
                         metadata: ["camera.device": "\(configuration.device)", "error": "\(reason)"])
        }
    }

    private func reconnect() {
        let now = clock.now
        guard now >= nextAttempt else {
            Thread.sleep(forTimeInterval: min(now.duration(to: nextAttempt), .milliseconds(250)) / .seconds(1))
            return
        }
        do {
            let opened = try OpenCamera(configuration)
            camera = opened
            lastFrame = clock.now
            backoff.reset()
            let metadata: Logger.Metadata = [
                "camera.device": "\(configuration.device)", "camera.card": "\(opened.card)", "camera.format": "\(opened.format)",
            ]
            if lost {
                lost = false
                logger.notice("camera back", metadata: metadata)
            } else {
                logger.info("camera on", metadata: metadata)
            }
        } catch {
            lose("\(error)")
            backoff.advance()
            nextAttempt = clock.now.advanced(by: backoff.current)
            logger.debug("camera reopen failed", metadata: ["error": "\(error)", "retry.seconds": "\(backoff.current)"])
        }
    }
}

/// An open, streaming camera. A class around the non-copyable device so the source can drop it.
final class OpenCamera {
    var device: V4L2Device
    let format: StreamFormat
    let card: String

    init(_ configuration: CameraConfiguration) throws(V4L2Error) {
        var device = try V4L2Device(path: configuration.device)
        let preferred: [PixelFormat] = switch configuration.format {
        case .auto: [.mjpeg, .jpeg, .yuyv, .grey]
        case .mjpeg: [.mjpeg, .jpeg]
        case .yuyv: [.yuyv]
        case .grey: [.grey]
        }
        format = try device.negotiate(preferring: preferred, width: configuration.width, height: configuration.height,
                                      framesPerSecond: configuration.fps)
        try device.startStreaming(bufferCount: configuration.buffers)
        card = device.info.card
        self.device = device
    }
}
