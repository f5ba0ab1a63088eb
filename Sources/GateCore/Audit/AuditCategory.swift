/// Kinds of entries in the hash-chained audit log.
public enum AuditCategory: String, Sendable, Hashable, Codable, CaseIterable {
    /// A decision at a door (granted/denied), REX, remote open.
    case access
    /// An alarm raised or cleared at a door.
    case alarm
    /// A change by an operator: residents, credentials, consent, templates, retention.
    case admin
    /// The daemon itself: start, stop, configuration.
    case system
}
