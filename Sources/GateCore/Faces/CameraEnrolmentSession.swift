/// A camera enrolment bound to the person in front of the camera (issue 9).
///
/// An operator arms it for one resident at one door. It captures nothing until *that* resident's own
/// card or PIN is granted at *that* door within `credentialWindow`; other residents' credentials, other
/// doors and credentials granted before arming do not count. While capturing, every frame must show
/// exactly one usable face, and the same person as the frames before it: the session ends, refused,
/// on the first frame with several faces or another person, and the caller stores nothing.
///
/// Pure state: no camera, no store, time injected. The caller detects faces, embeds them and compares
/// embeddings; this type decides what the results mean.
public struct CameraEnrolmentSession<Instant: InstantProtocol>: Sendable where Instant: Sendable, Instant.Duration == Duration {
    /// `awaitingCredential` → `capturing` → `finished`; or straight to `finished` when a deadline passes.
    public enum State: Sendable, Hashable {
        /// Waiting for the resident's own card or PIN at the door until the deadline.
        case awaitingCredential(until: Instant)
        /// Capturing until the deadline; `collected` frames accepted so far.
        case capturing(until: Instant, collected: Int)
        case finished(Outcome)
    }

    public enum Outcome: Sendable, Hashable {
        /// Every accepted frame may be stored: `frames` templates.
        case enrolled(frames: Int)
        /// Nothing may be stored.
        case refused(Refusal)
    }

    /// Why a session ended without storing anything.
    public enum Refusal: Sendable, Hashable {
        /// The resident's own card or PIN was not granted at the door within the window.
        case noCredential(door: String, window: Duration)
        /// No frame with a usable face while capturing.
        case noFace(window: Duration)
        /// A frame showed this many usable faces.
        case severalFaces(count: Int)
        /// A frame showed another person than the frames before it.
        case differentPerson
        /// The face already matches another resident's template.
        case matchesAnotherResident
    }

    /// What the caller does with a frame.
    public enum FrameStep: Sendable, Hashable {
        /// The session is not capturing: the frame goes to matching as usual.
        case ignore
        /// Capturing, but the frame has no usable face: wait for the next one.
        case skip
        /// Capturing, exactly one usable face: embed it, compare, and report with `embedded(refusal:)`.
        case embed
        /// The session ended with this frame.
        case finished(Outcome)
    }

    public let residentID: String
    public let door: String
    /// Templates to collect (one per accepted frame).
    public let frames: Int
    public let credentialWindow: Duration
    public let captureWindow: Duration
    public private(set) var state: State

    /// - Parameters:
    ///   - armedAt: when the operator armed the session; only credentials granted from then on count.
    ///   - credentialWindow: how long the resident has to present their card or PIN at `door`.
    ///   - captureWindow: how long capture may take once it started.
    public init(residentID: String, door: String, frames: Int, armedAt: Instant, credentialWindow: Duration = .seconds(60),
                captureWindow: Duration = .seconds(20)) {
        self.residentID = residentID
        self.door = door
        self.frames = max(frames, 1)
        self.credentialWindow = credentialWindow
        self.captureWindow = captureWindow
        state = .awaitingCredential(until: armedAt.advanced(by: credentialWindow))
    }

    public var isCapturing: Bool {
        if case .capturing = state { true } else { false }
    }

    public var outcome: Outcome? {
        if case .finished(let outcome) = state { outcome } else { nil }
    }

    /// A card or PIN was granted to `residentID` at `door`. - Returns: `true` when this starts the capture.
    public mutating func credentialGranted(residentID: String, door: String, at now: Instant) -> Bool {
        guard case .awaitingCredential(let until) = state, now <= until,
              residentID == self.residentID, door == self.door
        else { return false }
        state = .capturing(until: now.advanced(by: captureWindow), collected: 0)
        return true
    }

    /// Ends the session when its current deadline has passed. - Returns: the outcome when it ended now.
    public mutating func tick(at now: Instant) -> Outcome? {
        switch state {
        case .awaitingCredential(let until) where until < now:
            return finish(.refused(.noCredential(door: door, window: credentialWindow)))
        case .capturing(let until, _) where until < now:
            return finish(.refused(.noFace(window: captureWindow)))
        default:
            return nil
        }
    }

    /// A frame arrived with `usableFaces` faces that pass the quality gates.
    public mutating func frame(usableFaces: Int, at now: Instant) -> FrameStep {
        if let outcome = tick(at: now) { return .finished(outcome) }
        guard case .capturing = state else { return .ignore }
        switch usableFaces {
        case 0: return .skip
        case 1: return .embed
        default: return .finished(finish(.refused(.severalFaces(count: usableFaces))))
        }
    }

    /// The frame's one face was embedded and compared: `refusal` is `nil` when it shows the same person as
    /// every frame accepted before it and no other resident. - Returns: the outcome when the session ended.
    public mutating func embedded(refusal: Refusal?) -> Outcome? {
        guard case .capturing(let until, let collected) = state else { return nil }
        if let refusal { return finish(.refused(refusal)) }
        if collected + 1 >= frames { return finish(.enrolled(frames: collected + 1)) }
        state = .capturing(until: until, collected: collected + 1)
        return nil
    }

    /// Ends the session now (replaced, camera lost). - Returns: `false` when it had already ended.
    @discardableResult
    public mutating func cancel(_ refusal: Refusal) -> Bool {
        guard outcome == nil else { return false }
        state = .finished(.refused(refusal))
        return true
    }

    private mutating func finish(_ outcome: Outcome) -> Outcome {
        state = .finished(outcome)
        return outcome
    }
}

extension CameraEnrolmentSession.Refusal: CustomStringConvertible {
    /// A constant name for logs, without any detail.
    public var kind: String {
        switch self {
        case .noCredential: "noCredential"
        case .noFace: "noFace"
        case .severalFaces: "severalFaces"
        case .differentPerson: "differentPerson"
        case .matchesAnotherResident: "matchesAnotherResident"
        }
    }

    public var description: String {
        switch self {
        case .noCredential(let door, let window):
            "the resident did not present their own card or PIN at door \(door) within \(window.components.seconds) s; "
                + "camera enrolment starts only after that, so nothing was captured or stored"
        case .noFace(let window):
            "no frame with exactly one usable face in \(window.components.seconds) s after the resident's card or PIN; "
                + "nothing was stored, ask the resident to face the camera alone"
        case .severalFaces(let count):
            "the camera saw \(count) faces at once during the enrolment; enrolment refused and nothing was stored, "
                + "ask the resident to face the camera alone"
        case .differentPerson:
            "the camera saw different people during the enrolment; enrolment refused and nothing was stored, "
                + "ask the resident to face the camera alone"
        case .matchesAnotherResident:
            "this face already matches another resident; enrolment refused and nothing was stored"
        }
    }
}
