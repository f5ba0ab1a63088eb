public import FaceVision
import Foundation

/// One camera frame. MJPEG frames stay encoded: decoding is a pipeline stage of its own (and is timed
/// as one); raw formats (YUYV) arrive already converted to BGR.
public enum Frame: Sendable {
    case jpeg([UInt8])
    case bgr(BGRImage)
}

/// Where frames come from: a camera, or a replay of files. `nextFrame` blocks until the newest frame
/// is due and is only ever called from the recogniser's own thread, never from the cooperative pool.
public protocol FrameSource: AnyObject {
    /// - Returns: the newest frame, or `nil` when the source has ended (a replay played once).
    func nextFrame() throws -> Frame?
}

public struct FrameSourceError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Plays a directory of JPEG files (in name order) or an MJPEG file (concatenated JPEGs) at a fixed
/// rate, looping or once. Like a camera it is live: when the consumer is slower than the frame rate,
/// the frames in between are skipped, never queued, so what is analysed is always the newest frame.
public final class ReplayFrameSource: FrameSource {
    let frames: [[UInt8]]
    let interval: Duration
    let loop: Bool
    private let clock = ContinuousClock()
    private var start: ContinuousClock.Instant?
    private var lastIndex = -1
    /// The index of the frame `nextFrame` returned last (before the loop's modulo).
    var currentIndex: Int { max(0, lastIndex) }

    /// - Parameters:
    ///   - path: a directory of `*.jpg`/`*.jpeg` files, or a single `.mjpeg`/`.mjpg`/`.jpg` file.
    ///   - framesPerSecond: playback rate (0.1–1000).
    public init(path: String, framesPerSecond: Double, loop: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FrameSourceError("the replay source \(path) does not exist")
        }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            frames = names.compactMap { FileManager.default.contents(atPath: "\(path)/\($0)").map(Array.init) }
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FrameSourceError("the replay source \(path) cannot be read")
            }
            frames = Self.splitMJPEG(Array(data))
        }
        guard !frames.isEmpty else { throw FrameSourceError("the replay source \(path) holds no JPEG frames") }
        interval = .nanoseconds(Int64(1e9 / min(max(framesPerSecond, 0.1), 1000)))
        self.loop = loop
    }

    public var frameCount: Int { frames.count }

    public func nextFrame() throws -> Frame? {
        let now = clock.now
        let start = self.start ?? now
        self.start = start
        // The frame due now; wait for the next one when the consumer is faster than the stream.
        var index = Int((start.duration(to: now) / interval).rounded(.down))
        if index <= lastIndex {
            index = lastIndex + 1
            let due = start.advanced(by: interval * index)
            Thread.sleep(forTimeInterval: max(0, now.duration(to: due) / .seconds(1)))
        }
        lastIndex = index
        if !loop && index >= frames.count { return nil }
        return .jpeg(frames[index % frames.count])
    }

    /// Splits concatenated JPEGs at each start-of-image marker that follows an end-of-image marker.
    /// (Frames with embedded EXIF thumbnails would be cut short: MJPEG streams carry none.)
    static func splitMJPEG(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var start: Int?
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0xFF && bytes[index + 1] == 0xD8 && start == nil {
                start = index
                index += 2
                continue
            }
            if bytes[index] == 0xFF && bytes[index + 1] == 0xD9, let first = start {
                frames.append(Array(bytes[first...(index + 1)]))
                start = nil
                index += 2
                continue
            }
            index += 1
        }
        return frames
    }
}
