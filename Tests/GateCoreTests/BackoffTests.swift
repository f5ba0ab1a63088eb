import GateCore
import Testing

/// The one back-off every reconnect loop uses (readers, camera, supervised services).
@Suite struct BackoffTests {
    @Test func doublesFromInitialUpToTheMaximum() {
        var backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(5))
        let waits = (0..<8).map { _ in backoff.next() }
        #expect(waits == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5), .seconds(5)])
    }

    @Test func aSuccessStartsOver() {
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(60))
        for _ in 0..<4 { backoff.advance() }
        #expect(backoff.current == .seconds(16))
        backoff.reset()
        #expect(backoff.current == .seconds(1))
        #expect(backoff.next() == .seconds(1))
        #expect(backoff.current == .seconds(2))
    }

    @Test func aShortSessionIsAFlapAndKeepsBackingOff() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(5))
        let first = backoff.sessionEnded(after: .milliseconds(100), minimumSession: .seconds(2))
        #expect(!first && backoff.current == .seconds(1))
        let second = backoff.sessionEnded(after: .milliseconds(100), minimumSession: .seconds(2))
        #expect(!second && backoff.current == .seconds(2))
        let lasting = backoff.sessionEnded(after: .seconds(2), minimumSession: .seconds(2))
        #expect(lasting && backoff.current == .milliseconds(500))
    }

    @Test func initialEqualToMaximumIsAConstantWait() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .milliseconds(500))
        #expect((0..<3).map { _ in backoff.next() } == [.milliseconds(500), .milliseconds(500), .milliseconds(500)])
    }
}
