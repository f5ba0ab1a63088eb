import Foundation
public import GateCore
import Logging

/// Retry delays for a reader whose device or service is away: 250 ms doubling to 5 s by default
/// (`Backoff`, the same rule as the camera and the supervised services).
public typealias ReaderBackoff = Backoff

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

    /// Counts the session that began at `started` and moves `backoff` on (reset after a lasting session).
    mutating func end(_ started: ContinuousClock.Instant, backoff: inout Backoff) {
        if backoff.sessionEnded(after: started.duration(to: clock.now), minimumSession: minimumSession) {
            shortSessions = 0
        } else {
            shortSessions += 1
        }
    }
}

/// The loop every reader runs around its source (an evdev node, the PC/SC context): open it, retrying
/// with backoff while it is away; use it until it ends; close it and start over. The absence, the
/// opening and the loss are each logged once, and only at debug level while the source flaps.
struct ReconnectLoop {
    struct Messages {
        var unavailable: Logger.Message
        var opened: Logger.Message
        var back: Logger.Message
        var reopenedWhileFlapping: Logger.Message
        var lost: Logger.Message
        var openedMetadata: Logger.Metadata = [:]
    }

    let backoff: ReaderBackoff
    let logger: Logger
    let messages: Messages

    /// - Parameters:
    ///   - open: a session with the source, or why there is none.
    ///   - use: follows the session until stopping (returns `nil`) or the source goes away (returns why).
    ///   - close: releases the session.
    func run<Session>(_ stopping: Locked<Bool>, open: () throws -> Session, use: (Session) -> (any Error)?,
                      close: (Session) -> Void) {
        var backoff = self.backoff
        backoff.reset()
        var announcedAbsence = false
        var wasOpen = false
        var flaps = FlapGuard()
        while !stopping.value {
            let session: Session
            do {
                session = try open()
            } catch {
                if !announcedAbsence {
                    logger.warning(messages.unavailable, metadata: ["error": "\(error)"])
                    announcedAbsence = true
                }
                guard stopping.sleep(backoff.next()) else { break }
                continue
            }
            if flaps.quiet {
                logger.debug(messages.reopenedWhileFlapping)
            } else {
                logger.info(wasOpen ? messages.back : messages.opened, metadata: messages.openedMetadata)
            }
            announcedAbsence = false
            wasOpen = true
            let started = flaps.begin()
            let ending = use(session)
            close(session)
            flaps.end(started, backoff: &backoff)
            if let ending {
                if !flaps.quiet {
                    logger.warning(messages.lost, metadata: ["error": "\(ending)"])
                }
                announcedAbsence = true
                guard stopping.sleep(backoff.current) else { break }
            }
        }
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
