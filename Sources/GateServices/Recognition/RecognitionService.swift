import FaceVision
public import GateControl
import Foundation
import GateCore
public import GateStore
public import Logging
public import ServiceLifecycle

/// Camera → detect → quality gates → embed → 1:N match → N-of-M agreement → the gate's decision path.
///
/// Frames and embeddings live only in local variables of one iteration: nothing about a face is
/// written, logged or kept, and a stranger produces one `face(door:, residentID: nil)` input, which the
/// gate records as "no match". The pipeline runs on its own thread (OpenCV and dlib block for tens of
/// milliseconds); the source always hands over the newest frame, so a slow iteration skips frames
/// instead of queueing them. The in-memory index is rebuilt whenever `faceIndexVersion` changes,
/// checked every 250 ms.
public final class RecognitionService<C: Clock>: Service, Sendable where C.Duration == Duration, C.Instant: Sendable {
    let engine: FaceEngine
    let makeSource: @Sendable () throws -> any FrameSource
    let gate: GateService<C>
    let database: GateDatabase
    let door: String
    let logger: Logger
    let status: Locked<FaceStatus>
    private let stopping = Locked(false)

    public init(engine: FaceEngine, source: @escaping @Sendable () throws -> any FrameSource, gate: GateService<C>,
                database: GateDatabase, door: String, status: Locked<FaceStatus>, logger: Logger) {
        self.engine = engine
        self.makeSource = source
        self.gate = gate
        self.database = database
        self.door = door
        self.status = status
        self.logger = logger
    }

    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    pipeline()
                    finished.resume()
                }
                thread.name = "optgate.recognition"
                thread.start()
            }
        } onCancelOrGracefulShutdown: { [stopping] in
            stopping.value = true
        }
        logger.info("face recognition stopped")
    }

    private func pipeline() {
        let source: any FrameSource
        let decoder: JPEGDecoder
        do {
            source = try makeSource()
            decoder = try JPEGDecoder(maximumPixels: 4096 * 4096)
        } catch {
            logger.error("camera unavailable; face entry off, card and PIN unaffected", metadata: ["error": "\(error)"])
            status.value.state = "disabled: \(error)"
            return
        }
        let clock = ContinuousClock()
        var aggregator = MatchAggregator<ContinuousClock.Instant>(rules: engine.matchRules)
        var index = engine.newIndex()
        var indexVersion: Int64 = -1
        var lastIndexCheck = clock.now.advanced(by: .seconds(-1))
        status.value.state = "on"
        status.value.embedder = engine.descriptor.id
        logger.info("face recognition on", metadata: ["face.embedder": "\(engine.descriptor.id)", "door.id": "\(door)",
                                                      "face.threshold": "\(engine.threshold)"])

        while !stopping.value {
            if lastIndexCheck.duration(to: clock.now) >= .milliseconds(250) {
                lastIndexCheck = clock.now
                if let version = try? database.faceIndexVersion(), version != indexVersion, let rebuilt = rebuildIndex() {
                    index = rebuilt
                    indexVersion = version
                }
            }
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
            let now = clock.now
            guard let verdict = analyse(frame, decoder: decoder, index: index, aggregator: &aggregator, at: now) else { continue }
            switch verdict {
            case .pending:
                break
            case .matched(let residentID):
                status.value.decisions += 1
                gate.submit(.face(door: door, residentID: residentID))
            case .noMatch:
                status.value.decisions += 1
                gate.submit(.face(door: door, residentID: nil))
            }
        }
    }

    /// One frame through the pipeline. - Returns: `nil` when the frame was unusable (counted as skipped).
    private func analyse(_ frame: Frame, decoder: JPEGDecoder, index: FaceIndex,
                         aggregator: inout MatchAggregator<ContinuousClock.Instant>, at now: ContinuousClock.Instant) -> MatchVerdict? {
        let image: BGRImage
        do {
            switch frame {
            case .jpeg(let bytes): image = try decoder.decode(bytes)
            case .bgr(let converted): image = converted
            }
        } catch {
            status.value.framesSkipped += 1
            logger.debug("frame skipped", metadata: ["error": "\(error)"])
            return nil
        }
        status.value.framesProcessed += 1
        do {
            guard let face = try engine.usableFaces(in: image).faces.first else {
                aggregator.observeEmptyFrame(at: now)
                return .pending
            }
            let probe = try engine.embed(face, in: image)
            status.value.facesAnalysed += 1
            return aggregator.observe(aggregator.candidate(for: index.nearest(to: probe)), at: now)
        } catch {
            status.value.framesSkipped += 1
            logger.warning("face analysis failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func rebuildIndex() -> FaceIndex? {
        do {
            let embedder = engine.descriptor.id
            var index = engine.newIndex()
            for template in try database.activeFaceTemplates() where template.embedder == embedder {
                index.add(template.embedding, residentID: template.residentID)
            }
            let stale = try database.templatesNeedingReenrolment(currentEmbedder: embedder).values.reduce(0, +)
            status.value.templates = index.count
            status.value.needingReenrolment = stale
            if stale > 0 {
                logger.warning("face templates from another embedder need re-enrolment",
                               metadata: ["face.templates.stale": "\(stale)", "face.embedder": "\(embedder)"])
            }
            logger.info("face index rebuilt", metadata: ["face.templates": "\(index.count)"])
            return index
        } catch {
            logger.error("face index rebuild failed; keeping the previous one", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
