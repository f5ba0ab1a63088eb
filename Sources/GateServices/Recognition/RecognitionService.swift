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
    private let thread = ServiceThread(name: "optgate.recognition")
    private let enrolment = Locked<CameraEnrolment?>(nil)

    /// A pending enrolment from the camera: matching pauses while it collects frames.
    struct CameraEnrolment: Sendable {
        var residentID: String
        var frames: Int
        var operatorName: String
        var deadline: ContinuousClock.Instant
        var reply: @Sendable (ControlResponse) -> Void
        var collected: [[Float]] = []
    }

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
        await thread.run { [self] stopping in pipeline(stopping) }
        logger.info("face recognition stopped")
    }

    /// Enrols the next `frames` frames that show exactly one usable face, after checking consent. The
    /// frames are used in memory like any other; only the sealed templates are stored.
    public func enroll(residentID: String, frames: Int, operatorName: String, reply: @escaping @Sendable (ControlResponse) -> Void) {
        do {
            guard try database.resident(residentID).faceConsent else {
                reply(.failure(GateStoreError.noActiveConsent(residentID: residentID).description))
                return
            }
        } catch {
            reply(.failure("\(error)"))
            return
        }
        guard status.value.state == "on" else {
            reply(.failure("the camera is not running (\(status.value.state))"))
            return
        }
        let request = CameraEnrolment(residentID: residentID, frames: frames, operatorName: operatorName,
                                      deadline: ContinuousClock().now.advanced(by: .seconds(20)), reply: reply)
        let previous = enrolment.value
        enrolment.value = request
        previous?.reply(.failure("replaced by a newer enrolment request"))
    }

    /// Feeds one frame to a pending enrolment. - Returns: `true` while an enrolment is in progress.
    private func continueEnrolment(_ image: BGRImage, index: FaceIndex, now: ContinuousClock.Instant) -> Bool {
        guard var request = enrolment.value else { return false }
        func finish(_ response: ControlResponse) {
            enrolment.value = nil
            request.reply(response)
        }
        if request.deadline < now {
            finish(.failure("no frame with exactly one usable face in 20 s; ask the resident to face the camera alone"))
            return true
        }
        guard let faces = try? engine.usableFaces(in: image).faces, faces.count == 1,
              let embedding = try? engine.embed(faces[0], in: image)
        else { return true }
        switch engine.enrolmentRefusal(of: embedding, after: request.collected, residentID: request.residentID, among: index) {
        case .differentPerson?:
            finish(.failure("the camera saw different people during the enrolment; enrolment refused, ask the resident to face the camera alone"))
            return true
        case .matchesAnotherResident?:
            finish(.failure("this face already matches another resident; enrolment refused"))
            return true
        case nil:
            break
        }
        request.collected.append(embedding)
        guard request.collected.count >= request.frames else {
            enrolment.value = request
            return true
        }
        do {
            for embedding in request.collected {
                try database.storeFaceTemplate(residentID: request.residentID, embedder: engine.descriptor.id,
                                               embedding: embedding, operator: request.operatorName)
            }
            finish(ControlResponse(ok: true, message: "enrolled \(request.collected.count) face template(s) for \(request.residentID) from the camera; no frame was kept"))
        } catch {
            finish(.failure("\(error)"))
        }
        return true
    }

    private func pipeline(_ stopping: Locked<Bool>) {
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
            guard let image = decode(frame, decoder: decoder) else { continue }
            if continueEnrolment(image, index: index, now: now) { continue }
            guard let verdict = analyse(image, index: index, aggregator: &aggregator, at: now) else { continue }
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

    /// - Returns: the frame as BGR, or `nil` when it cannot be decoded (counted as skipped, never fatal).
    private func decode(_ frame: Frame, decoder: JPEGDecoder) -> BGRImage? {
        do {
            switch frame {
            case .jpeg(let bytes): return try decoder.decode(bytes)
            case .bgr(let image): return image
            }
        } catch {
            skipped(because: "\(error)")
            logger.debug("frame skipped", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// One frame through detection, embedding and matching. - Returns: `nil` when analysis failed.
    private func analyse(_ image: BGRImage, index: FaceIndex, aggregator: inout MatchAggregator<ContinuousClock.Instant>,
                         at now: ContinuousClock.Instant) -> MatchVerdict? {
        status.value.framesProcessed += 1
        do {
            guard let face = try engine.usableFaces(in: image).faces.first else {
                analysed()
                aggregator.observeEmptyFrame(at: now)
                return .pending
            }
            let probe = try engine.embed(face, in: image)
            status.value.facesAnalysed += 1
            analysed()
            return aggregator.observe(aggregator.candidate(for: index.nearest(to: probe)), at: now)
        } catch {
            skipped(because: "\(error)")
            logger.warning("face analysis failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Counts a skipped frame; after `FaceStatus.degradedAfter` in a row, status says `degraded` (logged once).
    private func skipped(because reason: String) {
        var face = status.value
        face.framesSkipped += 1
        face.skippedInARow += 1
        face.lastSkipReason = reason
        let degrading = face.state == "on" && face.skippedInARow >= FaceStatus.degradedAfter
        if degrading { face.state = "degraded" }
        status.value = face
        if degrading {
            logger.error("face entry degraded: every recent frame was skipped; card and PIN unaffected",
                         metadata: ["face.skippedInARow": "\(face.skippedInARow)", "error": "\(reason)"])
        }
    }

    /// A frame made it through analysis: a degraded pipeline is working again.
    private func analysed() {
        var face = status.value
        guard face.skippedInARow > 0 || face.state == "degraded" else { return }
        let recovered = face.state == "degraded"
        face.skippedInARow = 0
        if recovered { face.state = "on" }
        status.value = face
        if recovered { logger.notice("face entry recovered: frames are analysed again") }
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
