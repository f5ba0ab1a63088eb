public import GateCore

/// The state of one optional service (camera and face recognition, a reader, door inputs) as
/// `optgate status` shows it. Such a service never takes the daemon down: when it ends or fails it is
/// restarted with back-off, and card and PIN decisions go on meanwhile.
public struct ServiceHealth: Codable, Sendable, Hashable {
    /// `recognition`, `reader main/wedge`, `inputs main`, …
    public var name: String
    /// `running`, or `restarting` while waiting out the back-off after the service ended.
    public var state: String
    /// Why it ended last, when it has.
    public var reason: String?
    public var restarts: Int
    /// When it is started again, while `restarting`.
    public var nextAttempt: WallTime?

    public init(name: String, state: String, reason: String? = nil, restarts: Int = 0, nextAttempt: WallTime? = nil) {
        self.name = name
        self.state = state
        self.reason = reason
        self.restarts = restarts
        self.nextAttempt = nextAttempt
    }
}

/// Whether the audit log can be written. When it cannot (disk full, I/O errors) decisions go on, the
/// entries wait in memory (up to a bound) and are written as soon as the store accepts them again.
public struct StorageHealth: Codable, Sendable, Hashable {
    /// `ok`, or `failing` while audit entries cannot be written.
    public var state: String
    public var reason: String?
    public var since: WallTime?
    /// Entries held in memory, written when the store accepts writes again.
    public var pendingEntries: Int
    /// Entries that did not fit in memory; their number is recorded once writes resume.
    public var droppedEntries: Int
    /// Denials counted in open flood windows, not yet written as a collapsed entry.
    public var collapsedDenials: Int

    public init(state: String = "ok", reason: String? = nil, since: WallTime? = nil, pendingEntries: Int = 0,
                droppedEntries: Int = 0, collapsedDenials: Int = 0) {
        self.state = state
        self.reason = reason
        self.since = since
        self.pendingEntries = pendingEntries
        self.droppedEntries = droppedEntries
        self.collapsedDenials = collapsedDenials
    }
}
