import Foundation

/// Retry delays for a reader whose device or service is away: starts short, doubles, stays at the cap.
public struct ReaderBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    func next(after delay: Duration) -> Duration { min(delay * 2, maximum) }
}

/// Keeps a source that opens and fails at once (a half-dead pcscd, a device that errors on every read)
/// from resetting the backoff and logging twice per retry: sessions shorter than `minimumSession` count
/// as flaps; after the first, the backoff keeps growing and the lost/back messages go quiet until a
/// session lasts.
struct FlapGuard {
    var minimumSession: Duration = .seconds(2)
    private(set) var shortSessions = 0
    private let clock = ContinuousClock()

    /// Whether lost/back messages are suppressed (the source is flapping).
    var quiet: Bool { shortSessions > 1 }

    func begin() -> ContinuousClock.Instant { clock.now }

    /// - Returns: the delay before the next attempt.
    mutating func end(_ started: ContinuousClock.Instant, delay: Duration, backoff: ReaderBackoff) -> Duration {
        if started.duration(to: clock.now) >= minimumSession {
            shortSessions = 0
            return backoff.initial
        }
        shortSessions += 1
        return backoff.next(after: delay)
    }
}

/// Where readers deliver what they read: `GateService.submit` in the daemon, a recording closure in tests.
public typealias ReaderSink = @Sendable (GateInput) -> Void

extension Locked where Value == Bool {
    /// Sleeps `duration` in short steps. - Returns: `false` when stopping was set meanwhile.
    func sleep(_ duration: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: duration)
        while !value {
            let left = clock.now.duration(to: deadline)
            if left <= .zero { return true }
            let step = min(left, .milliseconds(50))
            let (seconds, attoseconds) = step.components
            usleep(UInt32(seconds) * 1_000_000 + UInt32(attoseconds / 1_000_000_000_000))
        }
        return false
    }
}
