/// What the store knows about the holder of a presented credential.
public struct CredentialHolder: Sendable, Hashable {
    public var residentID: String
    /// Start of the resident's access (move-in); `nil` means already valid.
    public var validFrom: WallTime?
    /// End of the resident's access (move-out, lease end); `nil` means open-ended.
    public var validUntil: WallTime?
    /// The access groups the resident belongs to; empty means the default group (all doors, always).
    public var groups: [String]
    /// Whether the resident has a consented face template (a mode that needs a face falls back to the
    /// card for a resident without one, R1).
    public var hasFace: Bool

    public init(residentID: String, validFrom: WallTime? = nil, validUntil: WallTime?, groups: [String] = [], hasFace: Bool = false) {
        self.residentID = residentID
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.groups = groups
        self.hasFace = hasFace
    }
}

/// The rules of one door that the access policy needs.
public struct DoorPolicy: Sendable, Hashable {
    public var name: String
    public var methods: Set<AccessMethod>

    public init(name: String, methods: Set<AccessMethod>) {
        self.name = name
        self.methods = methods
    }
}

/// Decides whether a presented credential opens a door.
///
/// The policy is the same for face, card and PIN: a resident who never enrolled a face is not
/// treated any differently from one who did (R1, R2).
public enum AccessPolicy {
    /// - Parameters:
    ///   - method: how the credential was presented (`.face`, `.card` or `.pin`).
    ///   - holder: the resident the credential belongs to, or `nil` when nobody holds it.
    ///   - door: the door's rules.
    ///   - now: the current wall time, for validity checks.
    /// - Returns: a granted or denied decision with its reason.
    public static func decide(
        method: AccessMethod,
        holder: CredentialHolder?,
        door: DoorPolicy,
        now: WallTime
    ) -> AccessDecision {
        guard door.methods.contains(method) else {
            return AccessDecision(result: .denied, reason: .methodDisabled, residentID: holder?.residentID)
        }
        guard let holder else {
            return AccessDecision(result: .denied, reason: unknownReason(for: method))
        }
        if let validUntil = holder.validUntil, validUntil <= now {
            return AccessDecision(result: .denied, reason: .expired, residentID: holder.residentID)
        }
        return AccessDecision(result: .granted, reason: .valid, residentID: holder.residentID)
    }

    /// The denial reason for a credential nobody holds.
    public static func unknownReason(for method: AccessMethod) -> DecisionReason {
        switch method {
        case .face: .noMatch
        case .pin: .unknownPin
        default: .unknownCard
        }
    }
}
