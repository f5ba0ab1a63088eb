/// A visitor pass issued by a manager: which doors, when, how many times (docs/visitors.md).
///
/// The pass itself holds no secret: its one-off keypad code is stored only as a keyed hash and its QR
/// payload is signed by the site, both outside this value.
public struct VisitorPass: Sendable, Hashable, Codable {
    /// `v` and 12 hex digits; shown in `visitor list`, carried in the QR payload.
    public var id: String
    /// Who the pass is for, as the manager typed it (optional, never needed to open).
    public var name: String?
    public var doors: [String]
    public var validFrom: WallTime
    /// The first moment the pass no longer opens.
    public var validUntil: WallTime
    public var usesTotal: Int
    public var usesLeft: Int
    /// When a manager revoked the pass; `nil` while it stands.
    public var revokedAt: WallTime?

    public init(id: String, name: String? = nil, doors: [String], validFrom: WallTime, validUntil: WallTime, usesTotal: Int,
                usesLeft: Int, revokedAt: WallTime? = nil) {
        self.id = id
        self.name = name
        self.doors = doors
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.usesTotal = usesTotal
        self.usesLeft = usesLeft
        self.revokedAt = revokedAt
    }

    /// Whether the pass opens `door` at `wall`, checked in this order: revoked, not yet valid, expired,
    /// used up, wrong door. The order puts what a manager did (revocation) first, and says nothing about
    /// the doors of a pass that would not open anywhere.
    /// - Returns: `nil` when the pass opens, else the denial reason.
    public func refusal(at door: String, wall: WallTime) -> DecisionReason? {
        if revokedAt != nil { return .passRevoked }
        if wall < validFrom { return .notYetValid }
        if validUntil <= wall { return .expired }
        if usesLeft <= 0 { return .passUsedUp }
        if !doors.contains(door) { return .notInGroup }
        return nil
    }

    /// The pass after one use at a door: `nil` when it does not open there now (see `refusal(at:wall:)`).
    public func consumed(at door: String, wall: WallTime) -> VisitorPass? {
        guard refusal(at: door, wall: wall) == nil else { return nil }
        var used = self
        used.usesLeft -= 1
        return used
    }
}

/// What a visitor presented and what came of it, for the decision path and the event log.
public struct VisitorPassDecision: Sendable, Hashable {
    /// The pass the code or payload belongs to; `nil` when it is nobody's (an unknown code, a payload
    /// whose signature does not verify).
    public var passID: String?
    /// `nil` when the door opens; else why not.
    public var refusal: DecisionReason?

    public init(passID: String?, refusal: DecisionReason?) {
        self.passID = passID
        self.refusal = refusal
    }

    public var decision: AccessDecision {
        if let refusal { return AccessDecision(result: .denied, reason: refusal) }
        return AccessDecision(result: .granted, reason: .valid)
    }
}

/// How a visitor enters the one-off code at the keypad, in both keypad modes (docs/visitors.md).
public enum VisitorKeypad {
    /// Digits of a visitor code: fits the default `keypad.maxDigits` (8) in both modes.
    public static let codeDigits = 8
    /// The reserved unit code of unit + PIN keypads: a visitor types `0#CODE#`. No resident's unit is
    /// typed as `0`, so the code is never checked against a household's PINs.
    public static let unitCode = "0"

    /// Whether a submitted entry is to be looked up as a visitor code.
    /// - Parameters:
    ///   - unit: the unit code typed before the PIN (`unitPin` mode), `nil` in `pin` mode.
    ///   - digits: how many digits were submitted.
    /// - Returns: `.only` for the reserved unit (no PIN check at all), `.first` in PIN-only mode for an entry
    ///   of the visitor code's length (a PIN check follows when no pass has that code), `.never` otherwise.
    public static func lookup(unit: String?, digits: Int) -> Lookup {
        if let unit { return unit == unitCode ? .only : .never }
        return digits == codeDigits ? .first : .never
    }

    public enum Lookup: Sendable, Hashable {
        case only
        case first
        case never
    }
}
