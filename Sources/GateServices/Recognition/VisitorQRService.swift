public import FaceVision
import Foundation
import GateCore
public import Logging
public import ServiceLifecycle

/// Turns camera frames into visitor-pass presentations (docs/visitors.md): reads a frame for a QR code
/// only, and submits a code once per presentation — the same code in view counts once until it has been
/// out of view for `gap`. Nothing about the frame is kept.
struct VisitorQRScanner {
    static let gap: Duration = .seconds(3)
    let reader: QRCodeReader
    let door: String
    private var last: (text: String, seenAt: ContinuousClock.Instant)?

    init(reader: QRCodeReader, door: String) {
        self.reader = reader
        self.door = door
    }

    /// - Returns: the code's text when `image` shows a QR code that is a new presentation; `held` is
    ///   `true` whenever the frame showed a QR code at all (it then goes to no face analysis).
    mutating func scan(_ image: BGRImage, at now: ContinuousClock.Instant, logger: Logger) -> (held: Bool, presented: String?) {
        let text: String?
        do {
            text = try reader.read(image)
        } catch {
            logger.debug("QR reading failed", metadata: ["error": "\(error)"])
            return (false, nil)
        }
        guard let text else { return (false, nil) }
        let repeated = last.map { $0.text == text && $0.seenAt.duration(to: now) < Self.gap } ?? false
        last = (text, now)
        return (true, repeated ? nil : text)
    }
}

/// The camera of a door with `visitorQR` and no face entry: reads visitor passes' QR codes and nothing else
/// (no face model is loaded, no face is looked for).
public final class VisitorQRService<C: Clock>: Service, Sendable where C.Duration == Duration, C.Instant: Sendable {
    let makeSource: @Sendable () throws -> any FrameSource
    let gate: GateService<C>
    let door: String
    let reader: QRCodeReader
    let logger: Logger
    private let thread = ServiceThread(name: "optgate.visitor-qr")

    public init(source: @escaping @Sendable () throws -> any FrameSource, gate: GateService<C>, door: String, reader: QRCodeReader,
                logger: Logger) {
        self.makeSource = source
        self.gate = gate
        self.door = door
        self.reader = reader
        self.logger = logger
    }

    /// - Throws: `FrameSourceError` when the camera cannot be opened; the supervisor retries later.
    public func run() async throws {
        let failure = Locked<FrameSourceError?>(nil)
        await thread.run { [self] stopping in failure.value = loop(stopping) }
        if let failure = failure.value { throw failure }
    }

    private func loop(_ stopping: Locked<Bool>) -> FrameSourceError? {
        let source: any FrameSource
        let decoder: JPEGDecoder
        do {
            source = try makeSource()
            decoder = try JPEGDecoder(maximumPixels: 4096 * 4096)
        } catch {
            logger.error("camera unavailable; visitor QR codes are not read", metadata: ["error": "\(error)", "door.id": "\(door)"])
            return FrameSourceError("camera unavailable: \(error)")
        }
        logger.info("visitor QR reading on", metadata: ["door.id": "\(door)"])
        var scanner = VisitorQRScanner(reader: reader, door: door)
        while !stopping.value {
            let frame: Frame?
            do {
                frame = try source.nextFrame()
            } catch {
                logger.error("camera read failed", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.5)
                continue
            }
            guard let frame else {
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            let image: BGRImage
            do {
                switch frame {
                case .jpeg(let bytes): image = try decoder.decode(bytes)
                case .bgr(let bgr): image = bgr
                }
            } catch {
                logger.debug("frame skipped", metadata: ["error": "\(error)"])
                continue
            }
            if let text = scanner.scan(image, at: .now, logger: logger).presented {
                gate.submit(.visitorQR(door: door, payload: text))
            }
        }
        return nil
    }
}
