import Foundation
import Glibc
public import GateConfiguration
public import GateCore
import GateStore
import GPIO
public import Logging
public import ServiceLifecycle

/// A Wiegand reader or keypad on two GPIO lines (D0, D1), read through libgpiod edge events (1.6 and 2.x,
/// the `CGPIOShim`) with the kernel's timestamps, decoded by `GateCore.WiegandDecoder` (docs/readers.md#wiegand).
///
/// On a dedicated thread: requests both lines with edge detection, waits for events (at most until the
/// decoder's frame deadline), feeds every falling edge with its kernel timestamp — not the time it was
/// read — to the decoder, and closes frames on the gap. Cards become `FFFFCCCCCC` UIDs, keypad frames
/// keys of this reader's own PIN entry; a refused frame (bad parity, wrong length, noise) is a reader
/// error in the log (rate-limited), never a credential. A chip or line that is missing or busy is
/// retried with backoff, like any reader's device.
public final class WiegandGPIOReader: Service, Sendable {
    public let door: String
    let settings: WiegandReaderSettings
    let logger: Logger
    let sink: ReaderSink
    let floodGuard: ReaderFloodGuard?
    let backoff: ReaderBackoff
    private let thread: ServiceThread
    /// The decoder's counts (cards, keys, refused frames by reason), for the log when the reader stops.
    private let statistics = Locked<WiegandStatistics?>(nil)

    public init(door: String, settings: WiegandReaderSettings, backoff: ReaderBackoff = ReaderBackoff(),
                floodGuard: ReaderFloodGuard? = nil, logger: Logger, sink: @escaping ReaderSink) {
        self.door = door
        self.settings = settings
        self.backoff = backoff
        self.floodGuard = floodGuard
        var logger = logger
        logger[metadataKey: "door.id"] = "\(door)"
        logger[metadataKey: "gpio.chip"] = "\(settings.chip)"
        self.logger = logger
        self.sink = sink
        thread = ServiceThread(name: "optgate.wiegand")
    }

    /// The keypad name of this reader (its own wrong-PIN counter).
    var name: String { "wiegand \(settings.chip):\(settings.d0)/\(settings.d1)" }

    public func run() async throws {
        await thread.run { [self] stopping in loop(stopping) }
        let counts = statistics.value
        logger.info("Wiegand reader stopped", metadata: [
            "wiegand.cards": "\(counts?.cards ?? 0)", "wiegand.keys": "\(counts?.keys ?? 0)",
            "wiegand.refused": "\(counts?.rejectedTotal ?? 0)",
        ])
    }

    private func loop(_ stopping: Locked<Bool>) {
        var backoff = self.backoff
        var announced = false
        while !stopping.value {
            do {
                let lines = try InputLines(chip: settings.chip, offsets: [settings.d0, settings.d1], consumer: "optgated wiegand",
                                           fallingOnly: true)
                logger.info("Wiegand reader lines requested", metadata: ["gpio.d0": "\(settings.d0)", "gpio.d1": "\(settings.d1)"])
                announced = false
                backoff.reset()
                if let error = watch(lines, stopping: stopping) {
                    logger.warning("Wiegand reader lines lost; requesting them again", metadata: ["error": "\(error)"])
                } else {
                    return
                }
            } catch {
                if !announced {
                    logger.warning("Wiegand reader lines unavailable; retrying", metadata: ["error": "\(error)"])
                    announced = true
                }
            }
            guard stopping.sleep(backoff.next()) else { return }
        }
    }

    /// Decodes until stopping (`nil`) or the lines fail (the error).
    private func watch(_ lines: borrowing InputLines, stopping: Locked<Bool>) -> GPIOError? {
        var decoder = WiegandDecoder<MonotonicInstant>(timing: settings.timing)
        while !stopping.value {
            let now = MonotonicInstant.now
            let wait = decoder.nextDeadline.map { max(.zero, min(now.duration(to: $0), .milliseconds(200))) } ?? .milliseconds(200)
            let events: [EdgeEvent]
            do {
                events = try lines.waitForEvents(timeout: wait)
            } catch {
                return error
            }
            let received = MonotonicInstant.now
            for event in events where !event.rising {
                // A kernel stamping another clock (pre-5.7: CLOCK_REALTIME) must not put pulses in the future.
                let at = min(MonotonicInstant(nanoseconds: event.timestampNanoseconds), received)
                let line: WiegandLine = event.offset == settings.d0 ? .d0 : .d1
                if let message = decoder.pulse(line, at: at) { deliver(message) }
            }
            if let message = decoder.tick(at: MonotonicInstant.now) { deliver(message) }
            statistics.value = decoder.statistics
        }
        return nil
    }

    private func deliver(_ message: WiegandMessage) {
        switch message {
        case .card(let card):
            guard let uid = CardUID(card.uidHex) else { return }
            logger.debug("Wiegand card read")
            sink(.card(door: door, uid: uid))
        case .key(let key):
            sink(.key(door: door, key, keypad: name))
        case .rejected(let why):
            if floodGuard?.admitMalformed() ?? true {
                logger.notice("Wiegand frame refused", metadata: ["wiegand.problem": "\(why)"])
            }
        }
    }
}

/// `CLOCK_MONOTONIC`, the clock of the kernel's edge timestamps, as an instant for the decoder.
public struct MonotonicInstant: InstantProtocol, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static var now: MonotonicInstant {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return MonotonicInstant(nanoseconds: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
    }

    public func advanced(by duration: Duration) -> MonotonicInstant {
        let delta = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        return MonotonicInstant(nanoseconds: UInt64(max(0, Int64(nanoseconds) + delta)))
    }

    public func duration(to other: MonotonicInstant) -> Duration {
        .nanoseconds(Int64(other.nanoseconds) - Int64(nanoseconds))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
