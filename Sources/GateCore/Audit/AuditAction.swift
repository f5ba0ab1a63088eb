/// What an audit entry records: the dotted verb stored in `auditEntry.action` and shown by
/// `optgate events`, `audit list` and the exports.
///
/// The raw values are a stored contract: rows written by every earlier release carry them, and the
/// audit chain hashes them, so a raw value never changes. A new action is a new case.
public enum AuditAction: Sendable, Hashable {
    /// A decision or alarm at a door, by credential method (`access.card`, `access.pin`, `access.face`) or,
    /// when no credential was involved, by reason (`access.exitRequest`, `access.remoteOpen`,
    /// `alarm.heldOpen`, `alarm.fireRelease`…).
    case door(AuditCategory, DoorSubject)
    /// Repeated denials counted in one entry (`access.denied.collapsed`; `detail.count` says how many).
    case deniedCollapsed
    /// A PIN that two residents hold was typed at a PIN-only keypad (`pin.ambiguous`).
    case pinAmbiguous
    case daemonStart
    case daemonStop
    /// Audit writes work again after a failure (`audit.resumed`); `detail` counts what was lost.
    case auditResumed
    /// The operator accepted the log's current head as the new anchor (`audit.reanchor`).
    case auditReanchor
    case residentAdd
    /// A resident and everything about them were erased (`resident.erase`); redacts their entries.
    case residentErase
    case cardAdd
    case cardRemove
    case pinSet
    case pinClear
    case consentGrant
    case consentWithdraw
    case faceEnroll
    case faceDelete
    /// Entries older than the retention period were redacted (`events.purge`).
    case eventsPurge
    /// An operator locked a door down or lifted it (`door.lockdown`).
    case doorLockdown
    /// A resident's duress PIN was set (`pin.setDuress`).
    case pinSetDuress
    /// A resident's move-in, move-out or groups changed (`resident.update`).
    case residentUpdate
    /// A resident's `validUntil` passed: consent withdrawn, templates deleted, receipt (`resident.moveOut`).
    case residentMoveOut
    /// A time profile was added (`schedule.add`).
    case scheduleAdd
    /// A holiday calendar was imported or replaced (`calendar.import`).
    case calendarImport
    /// An access group was added (`group.add`).
    case groupAdd
    /// A door's passage schedule was set or removed (`door.passage`).
    case doorPassage
    /// A visitor pass was issued (`visitor.issue`); never the code.
    case visitorIssue
    /// A visitor pass was revoked (`visitor.revoke`).
    case visitorRevoke
    /// Passes that ended longer ago than the retention period were deleted, names and all (`visitor.purge`).
    case visitorPurge
    /// A notice version was added (`notice.add`): version, language and SHA-256, never the text.
    case noticeAdd
    /// The people with face data reached a filing threshold (`filing.threshold`, an alarm): once per threshold.
    case filingThreshold
    /// An impact assessment or compliance report was generated (`compliance.assessment`): kind and SHA-256.
    case complianceAssessment
    /// A console sign-in, lockout or account change (`console.login`…; docs/console.md).
    case console(ConsoleAuditVerb)
    /// A fleet gate has not synced with its hub for longer than `fleet.staleAfterSeconds` (`fleet.stale`, an alarm).
    case fleetStale
    /// A fleet gate's audit log no longer contains the head the hub witnessed (`fleet.auditDiverged`, an alarm).
    case fleetAuditDiverged
    /// The hub's change log is behind what this gate applied: restored from an older backup (`fleet.hubRolledBack`, an alarm).
    case fleetHubRolledBack

    /// What a door entry is about: the credential method, else the decision's reason.
    public enum DoorSubject: Sendable, Hashable {
        case method(AccessMethod)
        case reason(DecisionReason)

        var rawValue: String {
            switch self {
            case .method(let method): method.rawValue
            case .reason(let reason): reason.rawValue
            }
        }
    }

    /// The entry for `decision` at a door: by `method` when there is one, else by the decision's reason.
    public static func door(_ category: AuditCategory, method: AccessMethod?, reason: DecisionReason) -> AuditAction {
        .door(category, method.map(DoorSubject.method) ?? .reason(reason))
    }

    /// The actions that are not door entries, by raw value.
    private static let fixed: [String: AuditAction] = Dictionary(uniqueKeysWithValues: [
        AuditAction.deniedCollapsed, .pinAmbiguous, .daemonStart, .daemonStop, .auditResumed, .auditReanchor,
        .residentAdd, .residentErase, .cardAdd, .cardRemove, .pinSet, .pinClear, .consentGrant, .consentWithdraw,
        .faceEnroll, .faceDelete, .eventsPurge, .doorLockdown, .pinSetDuress, .residentUpdate, .residentMoveOut,
        .scheduleAdd, .calendarImport, .groupAdd, .doorPassage, .visitorIssue, .visitorRevoke,
        .visitorPurge,
        .noticeAdd, .filingThreshold, .complianceAssessment,
        .fleetStale,
        .fleetAuditDiverged, .fleetHubRolledBack,
    ].map { ($0.rawValue, $0) })

    /// Actions that blank earlier entries (`redactedBy` points at them).
    public var redacts: Bool { self == .residentErase || self == .eventsPurge }
}

extension AuditAction: RawRepresentable, Codable, CustomStringConvertible {
    public var rawValue: String {
        switch self {
        case .door(let category, let subject): "\(category.rawValue).\(subject.rawValue)"
        case .deniedCollapsed: "access.denied.collapsed"
        case .pinAmbiguous: "pin.ambiguous"
        case .daemonStart: "daemon.start"
        case .daemonStop: "daemon.stop"
        case .auditResumed: "audit.resumed"
        case .auditReanchor: "audit.reanchor"
        case .residentAdd: "resident.add"
        case .residentErase: "resident.erase"
        case .cardAdd: "card.add"
        case .cardRemove: "card.remove"
        case .pinSet: "pin.set"
        case .pinClear: "pin.clear"
        case .consentGrant: "consent.grant"
        case .consentWithdraw: "consent.withdraw"
        case .faceEnroll: "face.enroll"
        case .faceDelete: "face.delete"
        case .eventsPurge: "events.purge"
        case .doorLockdown: "door.lockdown"
        case .pinSetDuress: "pin.setDuress"
        case .residentUpdate: "resident.update"
        case .residentMoveOut: "resident.moveOut"
        case .scheduleAdd: "schedule.add"
        case .calendarImport: "calendar.import"
        case .groupAdd: "group.add"
        case .doorPassage: "door.passage"
        case .visitorIssue: "visitor.issue"
        case .visitorRevoke: "visitor.revoke"
        case .visitorPurge: "visitor.purge"
        case .noticeAdd: "notice.add"
        case .filingThreshold: "filing.threshold"
        case .complianceAssessment: "compliance.assessment"
        case .console(let verb): "console.\(verb.rawValue)"
        case .fleetStale: "fleet.stale"
        case .fleetAuditDiverged: "fleet.auditDiverged"
        case .fleetHubRolledBack: "fleet.hubRolledBack"
        }
    }

    /// Parses a stored action. - Returns: `nil` for text no release writes.
    public init?(rawValue: String) {
        if let action = Self.fixed[rawValue] {
            self = action
            return
        }
        if rawValue.hasPrefix("console."), let verb = ConsoleAuditVerb(rawValue: String(rawValue.dropFirst(8))) {
            self = .console(verb)
            return
        }
        guard let dot = rawValue.firstIndex(of: "."),
              let category = AuditCategory(rawValue: String(rawValue[..<dot])), category == .access || category == .alarm
        else { return nil }
        let subject = String(rawValue[rawValue.index(after: dot)...])
        if let method = AccessMethod(rawValue: subject) {
            self = .door(category, .method(method))
        } else if let reason = DecisionReason(rawValue: subject) {
            self = .door(category, .reason(reason))
        } else {
            return nil
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let action = AuditAction(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown audit action \(text)"))
        }
        self = action
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
