/// Collapses repeated denials into one counted audit entry per window.
///
/// A flood of unknown cards (a keyboard-wedge reader replaced by a BadUSB device typing UIDs, a card
/// brute-forcer) must not write one audit row per attempt: the log would grow without bound and every
/// row costs an fsync. Per key (door and reason) the first `individually` denials of a window are
/// recorded one by one; the rest are only counted, and when the window closes the caller writes one
/// entry carrying that count. Nothing is lost: recorded + collapsed counts add up to every denial.
///
/// Time is a parameter; the caller closes windows from its timer (`closeWindows(at:)`) and at shutdown
/// (`closeAll()`).
public struct DenialCollapser<Key: Hashable & Sendable, Instant: InstantProtocol>: Sendable
where Instant.Duration == Duration, Instant: Sendable {
    public struct Rules: Sendable, Hashable {
        /// Length of one window, measured from the window's first denial.
        public var window: Duration
        /// Denials per key and window recorded one by one before collapsing starts.
        public var individually: Int

        public init(window: Duration = .seconds(60), individually: Int = 20) {
            self.window = window
            self.individually = max(0, individually)
        }
    }

    /// What to do with one denial.
    public enum Verdict: Sendable, Hashable {
        /// Record it as usual.
        case record
        /// Count it only; it is reported by the window's collapsed entry.
        case collapse
    }

    /// A closed window that collapsed at least one denial.
    public struct Collapsed: Sendable, Hashable {
        public var key: Key
        /// Denials counted but not recorded one by one.
        public var count: Int
        /// Denials recorded one by one in the same window.
        public var recorded: Int
        public var windowStart: Instant

        public init(key: Key, count: Int, recorded: Int, windowStart: Instant) {
            self.key = key
            self.count = count
            self.recorded = recorded
            self.windowStart = windowStart
        }
    }

    struct Window: Sendable {
        var start: Instant
        var recorded = 0
        var collapsed = 0
    }

    public var rules: Rules
    private var windows: [Key: Window] = [:]

    public init(rules: Rules = Rules()) {
        self.rules = rules
    }

    /// Counts one denial for `key`. A closed window of that key is discarded first; call
    /// `closeWindows(at:)` before this when its collapsed count must be reported.
    public mutating func admit(_ key: Key, at now: Instant) -> Verdict {
        if let window = windows[key], window.start.advanced(by: rules.window) <= now, window.collapsed == 0 {
            windows[key] = nil
        }
        var window = windows[key] ?? Window(start: now)
        defer { windows[key] = window }
        if window.recorded < rules.individually {
            window.recorded += 1
            return .record
        }
        window.collapsed += 1
        return .collapse
    }

    /// Closes every window older than `rules.window`. - Returns: those that collapsed denials.
    public mutating func closeWindows(at now: Instant) -> [Collapsed] {
        let closed = windows.filter { $0.value.start.advanced(by: rules.window) <= now }
        for key in closed.keys { windows[key] = nil }
        return Self.report(closed)
    }

    /// Closes every window, due or not (shutdown). - Returns: those that collapsed denials.
    public mutating func closeAll() -> [Collapsed] {
        defer { windows.removeAll() }
        return Self.report(windows)
    }

    /// Denials counted but not yet reported, over all open windows.
    public var pendingCollapsed: Int { windows.values.reduce(0) { $0 + $1.collapsed } }

    /// When the oldest open window closes.
    public var nextDeadline: Instant? { windows.values.map { $0.start.advanced(by: rules.window) }.min() }

    private static func report(_ windows: [Key: Window]) -> [Collapsed] {
        windows.filter { $0.value.collapsed > 0 }
            .map { Collapsed(key: $0.key, count: $0.value.collapsed, recorded: $0.value.recorded, windowStart: $0.value.start) }
            .sorted { $0.windowStart < $1.windowStart }
    }
}
