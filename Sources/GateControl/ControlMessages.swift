public import GateCore

/// The control socket's protocol: one JSON object per line in each direction, a request then its
/// response. Documented in `docs/control-socket.md`.
public struct ControlRequest: Codable, Sendable, Hashable {
    public enum Command: String, Codable, Sendable {
        case status
        /// Open a door for one pulse on an operator's behalf (audited with the peer's Unix user).
        case openDoor = "door.open"
        /// Inject an input into a daemon running with simulated hardware.
        case simulate
        /// Arm a camera enrolment for a consenting resident: capture starts when the resident's own card or
        /// PIN is granted at the camera's door. Answered at once; poll `face.enrolment` for the outcome.
        case faceEnroll = "face.enroll"
        /// The state of the resident's camera enrolment (`enrolment` in the response).
        case faceEnrolment = "face.enrolment"
        /// Lock a door down (`active`), or lift it: credentials and remote opens are refused and passage is
        /// suspended; fire still releases. Without `door`, every door.
        case lockdown = "door.lockdown"
    }

    public var command: Command
    public var door: String?
    public var input: SimulatedInput?
    /// Free text from the CLI user (`--operator`), recorded beside the Unix user.
    public var operatorNote: String?
    /// For `face.enroll` and `face.enrolment`: whose face, and how many frames (1–5 templates). `door` is
    /// the door the resident authenticates at (default: the camera's door; any other is refused).
    public var resident: String?
    public var frames: Int?
    /// For `door.lockdown`: on (`true`) or off.
    public var active: Bool?

    public init(command: Command, door: String? = nil, input: SimulatedInput? = nil, operatorNote: String? = nil,
                resident: String? = nil, frames: Int? = nil, active: Bool? = nil) {
        self.active = active
        self.command = command
        self.door = door
        self.input = input
        self.operatorNote = operatorNote
        self.resident = resident
        self.frames = frames
    }

    /// Longest request line the daemon accepts.
    public static let maximumLength = 16 * 1024
}

/// A hardware input the simulator can inject.
public enum SimulatedInput: Codable, Sendable, Hashable {
    case card(uid: String)
    /// Digits typed on the keypad followed by `#`.
    case pin(digits: String)
    /// Raw keypad keys (`0`-`9`, `#`, `*`), for testing entry edge cases.
    case keys(String)
    case rex
    case contact(open: Bool)
    case fire(active: Bool)
    case tamper
    /// Holds the decision loop for this many seconds, as a hung decision would (watchdog tests).
    case stall(seconds: Double)
    /// The text of a visitor pass's QR code, as the door's camera would read it (`optgate simulate qr`).
    case qr(payload: String)
}

public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    public var error: String?
    public var message: String?
    public var status: DaemonStatus?
    /// For simulated credentials: what the door decided.
    public var decision: DecisionSummary?
    /// For `face.enroll` and `face.enrolment`: where the camera enrolment stands.
    public var enrolment: EnrolmentProgress?

    public init(ok: Bool, error: String? = nil, message: String? = nil, status: DaemonStatus? = nil, decision: DecisionSummary? = nil,
                enrolment: EnrolmentProgress? = nil) {
        self.ok = ok
        self.error = error
        self.message = message
        self.status = status
        self.decision = decision
        self.enrolment = enrolment
    }

    public static func failure(_ error: String) -> ControlResponse { ControlResponse(ok: false, error: error) }
}

public struct DecisionSummary: Codable, Sendable, Hashable {
    public var result: AccessResult
    public var reason: DecisionReason
    public var resident: String?

    public init(result: AccessResult, reason: DecisionReason, resident: String?) {
        self.result = result
        self.reason = reason
        self.resident = resident
    }
}

public struct DaemonStatus: Codable, Sendable {
    public var version: String
    public var pid: Int32
    public var startedAt: WallTime
    public var simulated: Bool
    public var face: FaceStatus
    public var doors: [DoorStatus]
    /// What the store holds; `nil` when it could not be read (sent as `{}`).
    public var counts: StoreCounts?
    /// Optional services (camera, readers, door inputs) and their restarts.
    public var services: [ServiceHealth]?
    /// Whether the audit log is being written.
    public var storage: StorageHealth?
    /// Configuration choices that weaken security, as sentences (e.g. an OSDP reader with `insecure: true`).
    public var warnings: [String]?
    /// The filing counter (R14): people with face data, thresholds crossed, the filing deadline once reached.
    public var filing: FilingStatus?

    public init(version: String, pid: Int32, startedAt: WallTime, simulated: Bool, face: FaceStatus, doors: [DoorStatus], counts: StoreCounts?,
                services: [ServiceHealth]? = nil, storage: StorageHealth? = nil) {
        self.services = services
        self.storage = storage
        self.version = version
        self.pid = pid
        self.startedAt = startedAt
        self.simulated = simulated
        self.face = face
        self.doors = doors
        self.counts = counts
    }
}

extension DaemonStatus {
    private enum CodingKeys: String, CodingKey {
        case version, pid, startedAt, simulated, face, doors, counts, services, storage, warnings, filing
    }

    /// `counts` is always present: `{}` when the store could not be read, as it was when it was a dictionary.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(String.self, forKey: .version)
        pid = try container.decode(Int32.self, forKey: .pid)
        startedAt = try container.decode(WallTime.self, forKey: .startedAt)
        simulated = try container.decode(Bool.self, forKey: .simulated)
        face = try container.decode(FaceStatus.self, forKey: .face)
        doors = try container.decode([DoorStatus].self, forKey: .doors)
        let named = try container.decode([String: Int].self, forKey: .counts)
        counts = StoreCounts(named: named)
        services = try container.decodeIfPresent([ServiceHealth].self, forKey: .services)
        storage = try container.decodeIfPresent(StorageHealth.self, forKey: .storage)
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings)
        filing = try container.decodeIfPresent(FilingStatus.self, forKey: .filing)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(pid, forKey: .pid)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(simulated, forKey: .simulated)
        try container.encode(face, forKey: .face)
        try container.encode(doors, forKey: .doors)
        try container.encode(counts?.named ?? [:], forKey: .counts)
        try container.encodeIfPresent(services, forKey: .services)
        try container.encodeIfPresent(filing, forKey: .filing)
        try container.encodeIfPresent(storage, forKey: .storage)
        try container.encodeIfPresent(warnings, forKey: .warnings)
    }
}

public struct DoorStatus: Codable, Sendable {
    /// The lock as `status` shows it.
    public enum Lock: String, Codable, Sendable, Hashable, CaseIterable {
        case locked
        /// Released for a pulse (grant, exit request, remote open).
        case unlocked
        /// Released by the fire-alarm input for as long as it is active.
        case fireReleased
        /// Locked down by an operator (`optgate door lockdown`): credentials are refused.
        case lockdown
        /// Held unlocked for free passage by a passage schedule (`optgate door passage`).
        case passage
    }

    /// The door contact as `status` shows it.
    public enum Contact: String, Codable, Sendable, Hashable, CaseIterable {
        case open
        case closed
    }

    public var name: String
    public var lock: Lock
    /// Whether the relay coil is energised (depends on the relay's polarity).
    public var relayEnergized: Bool
    public var contact: Contact
    public var fireAlarm: Bool
    public var alarms: [DoorAlarm]
    public var methods: [AccessMethod]
    public var keypadLockedOut: Bool
    /// The camera door's liveness policy (`ir`, `ir+geometry`, `geometry`, `none`); `nil` where no camera serves face.
    public var liveness: LivenessPolicy?

    public init(name: String, lock: Lock, relayEnergized: Bool, contact: Contact, fireAlarm: Bool, alarms: [DoorAlarm],
                methods: [AccessMethod], keypadLockedOut: Bool, liveness: LivenessPolicy? = nil) {
        self.liveness = liveness
        self.name = name
        self.lock = lock
        self.relayEnergized = relayEnergized
        self.contact = contact
        self.fireAlarm = fireAlarm
        self.alarms = alarms
        self.methods = methods
        self.keypadLockedOut = keypadLockedOut
    }
}

/// Where a camera enrolment stands; `message` says it in a sentence.
public struct EnrolmentProgress: Codable, Sendable, Hashable {
    public enum State: String, Codable, Sendable {
        /// Armed: waiting for the resident's own card or PIN at `door`.
        case awaitingCredential
        /// The resident authenticated; frames are being captured.
        case capturing
        /// Templates were stored.
        case enrolled
        /// Ended without storing anything; `message` says why.
        case refused
    }

    public var state: State
    public var door: String
    /// Seconds left before the current step's deadline, while the session runs.
    public var secondsLeft: Int?
    public var message: String

    public init(state: State, door: String, secondsLeft: Int? = nil, message: String) {
        self.state = state
        self.door = door
        self.secondsLeft = secondsLeft
        self.message = message
    }

    public var isFinished: Bool { state == .enrolled || state == .refused }
}

/// Where the CLI and the daemon meet by default: `<state dir>/control.sock`.
public enum ControlSocket {
    public static func defaultPath(stateDirectory: String) -> String { "\(stateDirectory)/control.sock" }
}

/// Live counters of the recogniser, read by `optgate status`.
public struct FaceStatus: Sendable, Hashable, Codable {
    /// `off` (no door uses face or no camera), `disabled: <reason>`, `on`, or `degraded` (on, but the last
    /// ``degradedAfter`` or more frames were all skipped).
    public var state: FaceState = .off
    public var embedder: String?
    public var templates: Int = 0
    /// Templates made by another embedder: they are ignored until the resident re-enrols.
    public var needingReenrolment: Int = 0
    public var framesProcessed: Int = 0
    public var framesSkipped: Int = 0
    public var facesAnalysed: Int = 0
    public var decisions: Int = 0
    /// Frames skipped since the last one that was analysed. From ``degradedAfter`` on, `state` reads `degraded`:
    /// the camera delivers frames but none can be used (corrupt JPEGs, a failing model), so face entry is not
    /// working although it is on.
    public var skippedInARow: Int = 0
    /// Why the newest skipped frame was skipped (a decoder or model error; never anything about a face).
    public var lastSkipReason: String?
    public static let degradedAfter = 10

    public init() {}

    /// Tolerates a daemon from before `skippedInARow` (a CLI upgraded before the daemon restarts).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        state = try container.decode(FaceState.self, forKey: .state)
        embedder = try container.decodeIfPresent(String.self, forKey: .embedder)
        templates = try container.decode(Int.self, forKey: .templates)
        needingReenrolment = try container.decode(Int.self, forKey: .needingReenrolment)
        framesProcessed = try container.decode(Int.self, forKey: .framesProcessed)
        framesSkipped = try container.decode(Int.self, forKey: .framesSkipped)
        facesAnalysed = try container.decode(Int.self, forKey: .facesAnalysed)
        decisions = try container.decode(Int.self, forKey: .decisions)
        skippedInARow = try container.decodeIfPresent(Int.self, forKey: .skippedInARow) ?? 0
        lastSkipReason = try container.decodeIfPresent(String.self, forKey: .lastSkipReason)
    }

    private enum CodingKeys: String, CodingKey {
        case state, embedder, templates, needingReenrolment, framesProcessed, framesSkipped, facesAnalysed, decisions
        case skippedInARow, lastSkipReason
    }
}

