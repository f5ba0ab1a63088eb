/// What the gate machine asks its executor to do. The machine never touches hardware, the store or a clock.
///
/// Relay and alarm effects are meant to be performed at once; lookups and audit writes go to the store and
/// their results come back as events, so a fire input is never queued behind a slow PIN check.
public enum GateEffect<Instant: InstantProtocol & Sendable>: Sendable, Hashable where Instant.Duration == Duration {
    /// Release (`true`) or engage the door's lock; the executor maps it to the relay's polarity.
    case setLock(door: String, released: Bool)
    /// Ask the store; the answer comes back as `GateEvent.lookedUp(id, …)`.
    case lookUp(LookupID, CredentialQuery)
    /// Write an audit entry (and its journal line, if it has one).
    case audit(AuditIntent)
    /// Answer a request.
    case reply(RequestID, GateReply)
    /// Send `GateEvent.tick` at this instant.
    case wake(at: Instant)
    /// Persist these wrong-PIN counters. Emitted before the lookup it protects, so that, performed in order,
    /// the charge is durable before the slow hash is checked.
    case saveGuessCounters([GuessScope: GuessCounter])
    /// Persist these presence entries (`nil`: the resident left the area or the entry expired).
    case savePresence([PresenceKey: WallTime?])
    /// A resident was granted by card or PIN (camera enrolment starts on the resident's own credential).
    case credentialGranted(residentID: String, door: String, method: AccessMethod)
    /// A credential was decided at a door (also a denial collapsed into a flood window): the reader's
    /// grant/deny feedback (LED, buzzer).
    case decided(door: String, AccessDecision)
    /// A journal line without an audit entry.
    case log(LogLine)
}

/// The answer to a request.
public enum GateReply: Sendable, Hashable {
    /// The door's state after the input, and the access decision when there was one.
    case done(message: String, decision: AccessDecision?)
    case failure(String)
}

/// One audit entry as the machine wants it written.
public struct AuditIntent: Sendable, Hashable {
    public var time: WallTime
    public var category: AuditCategory
    public var action: AuditAction
    public var door: String?
    public var method: AccessMethod?
    public var result: AccessResult?
    public var reason: DecisionReason?
    public var residentID: String?
    public var `operator`: String?
    public var detail: [String: String]
    /// The journal line written with the entry (it carries the entry's seq), if any.
    public var journal: JournalMessage?
    /// A credential decision's latency (R2): from the first input of the presentation (card read, first key,
    /// the recogniser's verdict, QR read) to the decision. Recorded as `latencyMs` in the entry's detail.
    public var latency: Duration? = nil

    public init(time: WallTime, category: AuditCategory, action: AuditAction, door: String? = nil, method: AccessMethod? = nil,
                result: AccessResult? = nil, reason: DecisionReason? = nil, residentID: String? = nil, operator: String? = nil,
                detail: [String: String] = [:], journal: JournalMessage? = nil) {
        self.time = time
        self.category = category
        self.action = action
        self.door = door
        self.method = method
        self.result = result
        self.reason = reason
        self.residentID = residentID
        self.operator = `operator`
        self.detail = detail
        self.journal = journal
    }
}


/// The constant journal messages of audit entries (the metadata comes from the entry).
public enum JournalMessage: String, Sendable, Hashable {
    case accessDecision = "access decision"
    case faceNoMatch = "face: no match"
    case doorAlarm = "door alarm"
    case lockdown = "door lockdown changed"
}

/// A journal line: a constant message and dotted metadata. Never a PIN, a UID or a resident id.
public struct LogLine: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable {
        case debug, info, notice, warning, error
    }

    public var level: Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// One resident's presence in one anti-passback area.
public struct PresenceKey: Sendable, Hashable, Codable {
    public var residentID: String
    public var area: String

    public init(residentID: String, area: String) {
        self.residentID = residentID
        self.area = area
    }
}
