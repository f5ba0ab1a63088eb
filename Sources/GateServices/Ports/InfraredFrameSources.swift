import Foundation
public import GateConfiguration
public import Logging
public import V4L2

/// A frame source that also delivers the near-infrared frame taken with each colour frame (`face.infrared`).
/// Both frames stay in memory only, like every frame.
public protocol InfraredPairedSource: FrameSource {
    /// The infrared frame taken with the colour frame `nextFrame` returned last; `nil` when none came.
    func infraredFrame() throws -> Frame?
}

/// A colour replay and an infrared replay played in step: infrared frame *i* (modulo its count) goes with
/// colour frame *i*, whatever frames the consumer skips.
public final class PairedReplayFrameSource: InfraredPairedSource {
    let colour: ReplayFrameSource
    let infrared: [[UInt8]]
    private var pending: [UInt8]?

    public init(colour: ReplayFrameSource, infraredPath: String) throws {
        self.colour = colour
        infrared = try ReplayFrameSource(path: infraredPath, framesPerSecond: 1, loop: true).frames
    }

    public func nextFrame() throws -> Frame? {
        guard let frame = try colour.nextFrame() else { return nil }
        pending = infrared[colour.currentIndex % infrared.count]
        return frame
    }

    public func infraredFrame() throws -> Frame? { pending.map(Frame.jpeg) }
}

/// Two V4L2 devices, colour and near-infrared (or the two streams of a dual-stream UVC camera): the newest
/// infrared frame is read right after each colour frame. Each device reconnects on its own; a lost infrared
/// camera gives `nil`, which the liveness policy treats as "no infrared frame" (refused, never waved through).
/// Infrared cameras commonly stream 8-bit grey (`GREY`); MJPEG and YUYV work too (`face.infrared.camera.format`).
///
/// The infrared camera is open exactly while the colour camera is: opened right after it, by `nextFrame` (were it
/// opened only when its first frame is asked for, the first colour frame of every start and of every reconnect
/// would have no infrared partner), and closed when the colour camera is lost (its frames are only read after a
/// colour frame, so it would otherwise stay open, unread, and keep an unplugged pair's driver busy).
public final class PairedCameraFrameSource: InfraredPairedSource {
    let colour: V4L2FrameSource
    let infrared: V4L2FrameSource

    public init(colour: CameraConfiguration, infrared: CameraConfiguration, logger: Logger) {
        self.colour = V4L2FrameSource(configuration: colour, logger: logger)
        self.infrared = V4L2FrameSource(configuration: infrared, logger: logger)
    }

    public func nextFrame() throws -> Frame? {
        let frame = try colour.nextFrame()
        if colour.isOpen { infrared.openIfDue() } else { infrared.close() }
        return frame
    }

    public func infraredFrame() throws -> Frame? { try infrared.nextFrame() }

    /// The formats in use, while each camera is open.
    public var formats: (colour: StreamFormat?, infrared: StreamFormat?) { (colour.format, infrared.format) }
}

extension FaceConfiguration {
    /// The frame source the configuration describes: a camera or a replay, paired with the infrared camera or
    /// replay when `face.infrared` is set.
    public func makeFrameSource(logger: Logger) throws -> any FrameSource {
        let ir = liveness.infrared
        if let camera {
            if let irCamera = ir?.camera { return PairedCameraFrameSource(colour: camera, infrared: irCamera, logger: logger) }
            return V4L2FrameSource(configuration: camera, logger: logger)
        }
        guard let replay else { throw FrameSourceError("no frame source is configured") }
        let colour = try ReplayFrameSource(path: replay.path, framesPerSecond: replay.fps, loop: replay.loop)
        if let irPath = ir?.replayPath { return try PairedReplayFrameSource(colour: colour, infraredPath: irPath) }
        return colour
    }
}
