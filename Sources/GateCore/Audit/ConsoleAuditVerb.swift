/// What a console user did that no store change records by itself (`console.login`, `console.lockout`…).
/// Changes made through the console (a resident added, consent recorded) keep their own actions and carry
/// the console user as operator (`console:NAME`).
public enum ConsoleAuditVerb: String, Sendable, Hashable, CaseIterable {
    /// The first administrator was created with the one-time setup token.
    case setup
    case login
    case logout
    /// An account was locked after too many wrong passwords.
    case lockout
    /// An administrator added a console user.
    case userAdd
    /// An administrator unlocked an account.
    case unlock
    /// A resident list was exported.
    case export
}
