public import FaceVision
public import GateControl
import Foundation
import GateConfiguration
import GateCore
public import GateFace
public import GateStore
public import Logging
public import ServiceLifecycle
internal import Synchronization

/// Camera → detect → quality gates → embed → 1:N match → N-of-M agreement → the gate's decision path.
///
/// Frames and embeddings live only in local variables of one iteration: nothing about a face is
/// written, logged or kept, and a stranger produces one `face(door:, residentID: nil)` input, which the
/// gate records as "no match". The pipeline runs on its own thread (OpenCV and dlib block for tens of
/// milliseconds); the source always hands over the newest frame, so a slow iteration skips frames
/// instead of queueing them. The in-memory index is rebuilt whenever `faceIndexVersion` changes,
/// checked every 250 ms, and holds only templates whose consent in force covers this camera's door:
/// elsewhere a consenting resident's face is not even compared, and is a stranger (`noMatch`).
///
/// Camera enrolment is bound to the person (`CameraEnrolmentSession`): armed by an operator, it
/// captures only after the resident's own card or PIN is granted at this door (the gate tells the
/// recogniser through `observeCredentialGrants`), and it ends on the first frame with two faces or
/// another person, storing nothing.
public final class RecognitionService<C: Clock>: Service, CameraEnrolling, Sendable
where C.Duration == Duration, C.Instant: Sendable {
    let engine: FaceEngine
    let makeSource: @Sendable () throws -> any FrameSource
    let gate: GateService<C>
    let database: GateDatabase
    let door: String
    let logger: Logger
    let status: Locked<FaceStatus>
    /// How long the resident has, once an enrolment is armed, to present their card or PIN at `door`.
    let enrolmentWindow: Duration
    /// How long capture may take once the resident authenticated.
    static var captureWindow: Duration { .seconds(20) }
    /// Reads visitor passes' QR codes on this door's frames (`visitorQR`); `nil` when the door does not.
    let qrReader: QRCodeReader?
    private let thread = ServiceThread(name: "optgate.recognition")
    private let enrolment = Mutex<EnrolmentSlot?>(nil)

    /// The camera enrolment armed last, touched by the control socket, the decision loop (credential
    /// grants) and the pipeline thread, always under the lock. Kept after it ends so the CLI can read
    /// the outcome, without its embeddings.
    struct EnrolmentSlot: Sendable {
        var number: Int
        var session: CameraEnrolmentSession<ContinuousClock.Instant>
        var operatorName: String
        /// How the resident authenticated, once they did.
        var method: AccessMethod?
        /// Embeddings of the accepted frames: in memory only, cleared when the session ends.
        var collected: [[Float]] = []
        /// The answer once the session ended and its outcome was handled.
        var final: EnrolmentProgress?
    }

    public init(engine: FaceEngine, source: @escaping @Sendable () throws -> any FrameSource, gate: GateService<C>,
                database: GateDatabase, door: String, enrolmentWindow: Duration = .seconds(60), status: Locked<FaceStatus>,
                qrReader: QRCodeReader? = nil, logger: Logger) {
        self.qrReader = qrReader
        self.engine = engine
        self.makeSource = source
        self.gate = gate
        self.database = database
        self.door = door
        self.enrolmentWindow = enrolmentWindow
        self.status = status
        self.logger = logger
        gate.observeCredentialGrants { [weak self] grant in self?.credentialGranted(grant) }
    }

    /// - Throws: `FrameSourceError` when the frame source cannot be opened: the service ends and its
    ///   supervisor (`SupervisedService`) retries later; the daemon and card and PIN entry go on.
    public func run() async throws {
        let failure = Locked<FrameSourceError?>(nil)
        await thread.run { [self] stopping in failure.value = pipeline(stopping) }
        if let failure = failure.value { throw failure }
        logger.info("face recognition stopped")
    }

    /// Arms a camera enrolment of `frames` templates for a consenting resident. Nothing is captured until
    /// the resident's own card or PIN is granted at this camera's door within `enrolmentWindow`.
    /// - Returns: at once, the armed session's progress or why it cannot be armed.
    public func enroll(residentID: String, frames: Int, door requested: String?, operatorName: String) -> ControlResponse {
        if let requested, requested != door {
            return .failure("the camera serves door \(door), not \(requested); the resident authenticates at the camera's door")
        }
        do {
            let resident = try database.resident(residentID)
            guard resident.faceConsent else {
                return .failure(GateStoreError.noActiveConsent(residentID: residentID).description)
            }
            // Refused now rather than after the capture, which would then store only some of the frames.
            let limit = GateDatabase.maximumTemplatesPerResident
            guard resident.faceTemplates + frames <= limit else {
                return .failure("\(residentID) has \(resident.faceTemplates) face template(s) and \(frames) more would exceed \(limit); "
                                + "delete them first (optgate face delete) or ask for fewer frames")
            }
        } catch {
            return .failure("\(error)")
        }
        guard status.value.state == .on else {
            let state = status.value.state
            return .failure(state == .degraded
                ? "the camera delivers no usable frames (face entry is degraded: \(status.value.lastSkipReason ?? "frames are skipped"))"
                : "the camera is not running (\(state))")
        }
        let now = ContinuousClock.now
        let progress = enrolment.withLock { slot in
            let armed = EnrolmentSlot(number: (slot?.number ?? 0) + 1,
                                      session: CameraEnrolmentSession(residentID: residentID, door: door, frames: frames, armedAt: now,
                                                                      credentialWindow: enrolmentWindow, captureWindow: Self.captureWindow),
                                      operatorName: operatorName)
            slot = armed
            return Self.progress(of: armed, at: now)
        }
        logger.info("camera enrolment armed", metadata: ["door.id": "\(door)", "enrolment.window": "\(enrolmentWindow)"])
        return ControlResponse(ok: true, message: progress.message, enrolment: progress)
    }

    /// Where the resident's camera enrolment stands. - Returns: a failure when none is armed for them.
    public func enrolmentProgress(residentID: String) -> ControlResponse {
        let now = ContinuousClock.now
        let progress = enrolment.withLock { slot -> EnrolmentProgress? in
            guard slot?.session.residentID == residentID else { return nil }
            settle(&slot!, at: now)
            return Self.progress(of: slot!, at: now)
        }
        guard let progress else {
            return .failure("no camera enrolment is armed for \(residentID) (none was, or a newer one replaced it)")
        }
        return ControlResponse(ok: true, message: progress.message, enrolment: progress)
    }

    /// On the decision loop: a card or PIN was granted. Starts the capture when it is the armed resident's own,
    /// at this door, in time.
    private func credentialGranted(_ grant: CredentialGrant) {
        let now = ContinuousClock.now
        let started = enrolment.withLock { slot -> Bool in
            guard slot?.final == nil, slot?.session.credentialGranted(residentID: grant.residentID, door: grant.door, at: now) == true
            else { return false }
            slot!.method = grant.method
            return true
        }
        if started {
            logger.info("camera enrolment capturing", metadata: ["door.id": "\(grant.door)", "decision.method": "\(grant.method.rawValue)"])
        }
    }

    /// Ends the session when a deadline passed, and turns a refusal into the final answer (embeddings dropped).
    private func settle(_ slot: inout EnrolmentSlot, at now: ContinuousClock.Instant) {
        guard slot.final == nil else { return }
        _ = slot.session.tick(at: now)
        guard case .refused(let refusal)? = slot.session.outcome else { return }
        slot.collected = []
        slot.final = EnrolmentProgress(state: .refused, door: slot.session.door, message: "\(refusal)")
        logger.notice("camera enrolment refused; nothing stored", metadata: ["door.id": "\(slot.session.door)",
                                                                             "enrolment.refusal": "\(refusal.kind)"])
    }

    private static func progress(of slot: EnrolmentSlot, at now: ContinuousClock.Instant) -> EnrolmentProgress {
        if let final = slot.final { return final }
        let door = slot.session.door
        func left(_ until: ContinuousClock.Instant) -> Int { max(0, Int(now.duration(to: until).components.seconds)) }
        switch slot.session.state {
        case .awaitingCredential(let until):
            return EnrolmentProgress(state: .awaitingCredential, door: door, secondsLeft: left(until),
                                     message: "armed: the resident presents their own card or PIN at door \(door) within \(left(until)) s, then faces the camera alone")
        case .capturing(let until, let collected):
            return EnrolmentProgress(state: .capturing, door: door, secondsLeft: left(until),
                                     message: "the resident's \(slot.method?.rawValue ?? "credential") was accepted at door \(door); capturing (\(collected) of \(slot.session.frames) frames), the resident faces the camera alone")
        case .finished:
            return EnrolmentProgress(state: .capturing, door: door, message: "storing the templates")
        }
    }

    /// Feeds one frame to a capturing enrolment. - Returns: `true` when the frame belonged to it (not to matching).
    private func captureFrame(_ image: BGRImage, others: inout (number: Int, index: FaceIndex)?, at now: ContinuousClock.Instant) -> Bool {
        guard let number = enrolment.withLock({ slot in slot.flatMap { $0.session.isCapturing ? $0.number : nil } }) else {
            others = nil
            return false
        }
        let faces: [FaceObservation]
        do {
            faces = try engine.usableFaces(in: image).faces
        } catch {
            status.value.framesSkipped += 1
            return true
        }
        let step = enrolment.withLock { slot -> CameraEnrolmentSession<ContinuousClock.Instant>.FrameStep? in
            guard slot?.number == number else { return nil }
            let step = slot!.session.frame(usableFaces: faces.count, at: now)
            settle(&slot!, at: now)
            return step
        }
        guard step == .embed, let embedding = try? engine.embed(faces[0], in: image) else { return true }
        // Every resident's templates, whatever their scope: a face may not become two residents' template.
        if others?.number != number { others = (number, fullIndex()) }
        guard let (residentID, collected) = enrolment.withLock({ slot in
            slot?.number == number ? (slot!.session.residentID, slot!.collected) : nil
        }) else { return true }
        let refusal: CameraEnrolmentSession<ContinuousClock.Instant>.Refusal? =
            switch engine.enrolmentRefusal(of: embedding, after: collected, residentID: residentID, among: others!.index) {
            case .differentPerson?: .differentPerson
            case .matchesAnotherResident?: .matchesAnotherResident
            case nil: nil
            }
        let accepted = enrolment.withLock { slot -> EnrolmentSlot? in
            guard slot?.number == number else { return nil }
            if refusal == nil { slot!.collected.append(embedding) }
            let outcome = slot!.session.embedded(refusal: refusal)
            settle(&slot!, at: now)
            guard case .enrolled? = outcome else { return nil }
            defer { slot!.collected = [] }
            return slot
        }
        if let accepted { store(accepted) }
        return true
    }

    /// Stores the accepted frames' templates, attributed to the operator who armed the session.
    private func store(_ slot: EnrolmentSlot) {
        let session = slot.session
        var final: EnrolmentProgress
        do {
            for embedding in slot.collected {
                try database.storeFaceTemplate(residentID: session.residentID, embedder: engine.descriptor.id, embedding: embedding,
                                               operator: slot.operatorName,
                                               source: "camera at \(session.door) after the resident's \(slot.method?.rawValue ?? "credential")")
            }
            final = EnrolmentProgress(state: .enrolled, door: session.door,
                                      message: "enrolled \(slot.collected.count) face template(s) for \(session.residentID) from the camera at door \(session.door); no frame was kept")
            logger.info("camera enrolment stored", metadata: ["door.id": "\(session.door)", "face.templates": "\(slot.collected.count)"])
        } catch {
            final = EnrolmentProgress(state: .refused, door: session.door, message: "\(error)")
        }
        enrolment.withLock { current in
            if current?.number == slot.number { current!.final = final }
        }
    }

    /// Every active template of this embedder, in every scope, for the enrolment's duplicate check.
    private func fullIndex() -> FaceIndex {
        var index = engine.newIndex()
        do {
            for template in try database.activeFaceTemplates() where template.embedder == engine.descriptor.id {
                index.add(template.embedding, residentID: template.residentID)
            }
        } catch {
            logger.error("face templates unreadable for the enrolment check", metadata: ["error": "\(error)"])
        }
        return index
    }

    /// - Returns: why the pipeline could not start, or `nil` when it ran until stopped.
    private func pipeline(_ stopping: Locked<Bool>) -> FrameSourceError? {
        let source: any FrameSource
        let decoder: JPEGDecoder
        do {
            source = try makeSource()
            decoder = try JPEGDecoder(maximumPixels: 4096 * 4096)
        } catch {
            logger.error("camera unavailable; face entry off, card and PIN unaffected", metadata: ["error": "\(error)"])
            status.value.state = .disabled(reason: "\(error)")
            return FrameSourceError("camera unavailable: \(error)")
        }
        let clock = ContinuousClock()
        var aggregator = MatchAggregator<ContinuousClock.Instant>(rules: engine.matchRules)
        var index = engine.newIndex()
        var indexVersion: Int64 = -1
        var lastIndexCheck = clock.now.advanced(by: .seconds(-1))
        var enrolmentIndex: (number: Int, index: FaceIndex)?
        var qrScanner = qrReader.map { VisitorQRScanner(reader: $0, door: door) }
        var liveness = WalkUpLiveness(engine.configuration.liveness, window: engine.matchRules.window)
        status.value.state = .on
        status.value.embedder = engine.descriptor.id
        logger.info("face recognition on", metadata: ["face.embedder": "\(engine.descriptor.id)", "door.id": "\(door)",
                                                      "face.threshold": "\(engine.threshold)"])

        while !stopping.value {
            enrolment.withLock { slot in if slot != nil { settle(&slot!, at: clock.now) } }
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
            // The infrared frame taken with this one (face.infrared), decoded only if a face needs it.
            let infraredFrame = liveness.policy.needsInfrared ? (try? (source as? any InfraredPairedSource)?.infraredFrame()) ?? nil : nil
            guard let image = decode(frame, decoder: decoder) else { continue }
            // Visitor passes (docs/visitors.md): a frame showing a QR code is read for the code only, no face analysis.
            if let scan = qrScanner?.scan(image, at: now, logger: logger), scan.held {
                if let text = scan.presented { gate.submit(.visitorQR(door: door, payload: text)) }
                continue
            }
            if captureFrame(image, others: &enrolmentIndex, at: now) { continue }
            guard let verdict = analyse(image, index: index, aggregator: &aggregator, liveness: &liveness,
                                        infrared: { infraredFrame.flatMap { self.decode($0, decoder: decoder) } }, at: now)
            else { continue }
            if verdict != .pending { liveness.reset() }
            switch verdict {
            case .pending:
                break
            case .matched(let residentID):
                status.value.decisions += 1
                gate.submit(.face(door: door, residentID: residentID))
            case .noMatch:
                status.value.decisions += 1
                gate.submit(.face(door: door, residentID: nil))
            case .livenessFailed:
                status.value.decisions += 1
                logger.notice("face refused: liveness did not hold", metadata: ["door.id": "\(door)",
                                                                              "face.liveness": "\(liveness.policy.rawValue)"])
                gate.submit(.faceRefused(door: door, reason: .livenessFailed))
            }
        }
        return nil
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
                         liveness: inout WalkUpLiveness, infrared: () -> BGRImage?, at now: ContinuousClock.Instant) -> MatchVerdict? {
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
            let match = index.nearest(to: probe)
            let candidate = aggregator.candidate(for: match)
            let live = liveness.observe(face, candidate: candidate, infrared: infrared, detector: engine.detector, at: now)
            return aggregator.observe(candidate, distance: match?.distance ?? .infinity, liveness: live, at: now)
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
        let degrading = face.state == .on && face.skippedInARow >= FaceStatus.degradedAfter
        if degrading { face.state = .degraded }
        status.value = face
        if degrading {
            logger.error("face entry degraded: every recent frame was skipped; card and PIN unaffected",
                         metadata: ["face.skippedInARow": "\(face.skippedInARow)", "error": "\(reason)"])
        }
    }

    /// A frame made it through analysis: a degraded pipeline is working again.
    private func analysed() {
        var face = status.value
        guard face.skippedInARow > 0 || face.state == .degraded else { return }
        let recovered = face.state == .degraded
        face.skippedInARow = 0
        if recovered { face.state = .on }
        status.value = face
        if recovered { logger.notice("face entry recovered: frames are analysed again") }
    }

    private func rebuildIndex() -> FaceIndex? {
        do {
            let embedder = engine.descriptor.id
            var index = engine.newIndex()
            let doors = gate.configuration.doors.map(\.name)
            var unknownDoors = 0
            // Only templates whose consent covers this door: elsewhere the face is not compared at all.
            for template in try database.activeFaceTemplates() where template.embedder == embedder {
                if template.scope.problem(knownDoors: doors) != nil { unknownDoors += 1 }
                if template.scope.covers(door: door) { index.add(template.embedding, residentID: template.residentID) }
            }
            if unknownDoors > 0 {
                // A door renamed or removed since the consent: that part of the scope covers nothing.
                logger.warning("consent scopes name doors that are not configured",
                               metadata: ["face.templates.unknownScope": "\(unknownDoors)", "doors": "\(doors)"])
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
