/// Entries of the consent ledger. Withdrawal is a new entry, never an edit of the grant (R4, R7).
public enum ConsentAction: String, Sendable, Hashable, Codable, CaseIterable {
    case grant
    case withdraw
}

/// How the resident expressed consent (R4).
public enum ConsentMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// Touch confirmation on the gate's own screen.
    case kiosk
    /// A signed paper form, scanned or filed by reference.
    case paper
    /// Recorded by a property manager at the admin console, in the resident's presence.
    case console
}
