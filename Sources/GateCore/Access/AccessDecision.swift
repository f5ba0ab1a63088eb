/// The outcome of one event at a door, as it is written to the event log.
public enum AccessResult: String, Sendable, Hashable, Codable {
    case granted
    case denied
    /// An alarm was raised (forced open, held open, tamper, keypad lockout, fire).
    case alarm
    /// A previously raised alarm condition ended (door closed again, fire alarm cleared).
    case cleared
}

/// Why a decision came out the way it did. The raw values are stable: they appear in the event log,
/// in `optgate events` output and in exports.
public enum DecisionReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// A known, active credential of a resident whose access is current.
    case valid
    case unknownCard
    case unknownPin
    /// A face was seen but matched no consenting resident (nothing else about it is kept).
    case noMatch
    /// A face matched a consenting resident whose consent does not cover this door (the scope changed
    /// between two index refreshes). Recorded without the resident, like `noMatch`.
    case outOfScope
    /// The credential's method is not enabled on this door.
    case methodDisabled
    /// The resident's access ended (`validUntil` is in the past).
    case expired
    /// The keypad is locked out after too many wrong PINs.
    case lockedOut
    /// The PIN belongs to several residents, so it cannot say who came in; nobody is let in on it.
    case ambiguousPin
    /// Fewer digits than the minimum PIN length were submitted.
    case pinTooShort
    /// More digits than the maximum PIN length were typed.
    case pinTooLong
    case remoteOpen
    case exitRequest
    case fireRelease
    case fireCleared
    case heldOpen
    case doorClosed
    case forcedOpen
    case tamper
    case keypadLockout
    /// The resident's groups allow this door, but not at this time (week plan, holiday plan, date range).
    case outsideSchedule
    /// None of the resident's access groups includes this door.
    case notInGroup
    /// The door's verify mode asks for a second credential (card + PIN, face + PIN) that did not follow
    /// within the timeout.
    case secondFactorNeeded
    /// A visitor pass whose uses are all spent.
    case passUsedUp
    /// A visitor pass revoked by a manager.
    case passRevoked
    /// Anti-passback: the holder is already inside this area (hard mode denies; soft mode only records).
    case antiPassback
    /// A resident's duress PIN: the door opens as usual and a silent alarm is raised.
    case duress
    /// The resident's access has not started yet (`validFrom` is in the future), or a pass is not yet valid.
    case notYetValid
    /// The door is locked down by a manager: credentials and remote opens are refused (fire still releases).
    case lockedDown
    /// A face matched, but the door's liveness policy (`face.liveness`: infrared camera, head geometry across
    /// frames) did not hold: a photo, a screen or a print. Recorded without the resident.
    case livenessFailed
    /// A supervised reader is offline (no valid reply within its timeout) or its link was refused.
    case readerOffline
    /// A reader's tamper switch, or a reader that tried to downgrade its security or holds a wrong key.
    case readerTamper
}

/// A decision about one credential presented at one door.
public struct AccessDecision: Sendable, Hashable {
    public var result: AccessResult
    public var reason: DecisionReason
    /// The resident the credential belongs to, when it is known, including for denials such as `expired`.
    public var residentID: String?

    public init(result: AccessResult, reason: DecisionReason, residentID: String? = nil) {
        self.result = result
        self.reason = reason
        self.residentID = residentID
    }

    public var isGranted: Bool { result == .granted }
}
