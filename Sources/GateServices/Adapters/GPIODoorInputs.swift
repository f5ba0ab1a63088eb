import Foundation
public import GateConfiguration
import Glibc
public import GPIO
public import Logging
public import ServiceLifecycle

/// A door's contact, request-to-exit, fire and tamper inputs on GPIO lines with both-edge events.
///
/// Threads: the lines are requested in `init` (on the caller's thread, before the service group runs,
/// so a missing chip or busy line stops startup before READY). `run()` starts one dedicated thread,
/// `optgate.gpio.<door>`, which blocks in `InputLines.waitForEvents` (ppoll on the line event fds, at
/// most 200 ms or until the next debounce deadline) and posts each debounced change with
/// `submit` (`GateService.submit`, which only enqueues). The cooperative pool never blocks.
///
/// Debounce: a level must hold `debounceMilliseconds` (kernel timestamps, `CLOCK_MONOTONIC`) before it
/// counts; shorter pulses are ignored. At start, inputs already active are reported (an open door,
/// an active fire alarm, an open enclosure), so the daemon does not wait for the next edge.
public final class GPIODoorInputs: Service, @unchecked Sendable {
    public let door: String
    let configuration: DoorGPIOConfiguration
    let submit: @Sendable (GateInput) -> Void
    let logger: Logger
    private let lines: InputLines
    private let roles: [UInt32: (role: DoorInputRole, activeLow: Bool)]
    private let thread: ServiceThread

    /// Requests the configured input lines. - Throws: ``GPIOError``.
    public init(door: String, configuration: DoorGPIOConfiguration, logger: Logger,
                submit: @escaping @Sendable (GateInput) -> Void) throws(GPIOError) {
        self.door = door
        self.configuration = configuration
        self.submit = submit
        self.logger = logger
        thread = ServiceThread(name: "optgate.gpio.\(door)")
        var roles: [UInt32: (DoorInputRole, Bool)] = [:]
        for input in configuration.inputs { roles[input.line] = (input.role, input.activeLow) }
        self.roles = roles
        lines = try InputLines(chip: configuration.chip, offsets: configuration.inputs.map(\.line), consumer: "optgated \(door)")
    }

    public func run() async throws {
        await thread.run { [self] stopping in watch(stopping) }
    }

    /// Per line: the level that counts, and a change waiting out the debounce time.
    private struct LineState {
        var stable: Bool
        var pending: (level: Bool, since: UInt64)?
    }

    private func watch(_ stopping: Locked<Bool>) {
        let debounce = UInt64(configuration.debounceMilliseconds) * 1_000_000
        var states: [UInt32: LineState] = [:]
        do {
            let levels = try lines.levels()
            for (offset, level) in zip(lines.offsets, levels) {
                states[offset] = LineState(stable: level)
                let active = isActive(offset, level: level)
                if active { report(offset, active: true) }
            }
        } catch {
            logger.error("door inputs unreadable; contact, REX, fire and tamper are not watched",
                         metadata: ["door.id": "\(door)", "error": "\(error)"])
            return
        }
        logger.info("door inputs watched", metadata: [
            "door.id": "\(door)", "gpio.chip": "\(configuration.chip)",
            "gpio.lines": "\(configuration.inputs.map { "\($0.role.rawValue)=\($0.line)" }.joined(separator: ","))",
        ])
        var failures = 0
        while !stopping.value {
            let now = Self.monotonicNanoseconds()
            let nextDeadline = states.values.compactMap { $0.pending.map { $0.since + debounce } }.min()
            let wait = nextDeadline.map { $0 > now ? min($0 - now, 200_000_000) : 0 } ?? 200_000_000
            let events: [EdgeEvent]
            do {
                events = try lines.waitForEvents(timeout: .nanoseconds(Int64(wait)))
                failures = 0
            } catch {
                failures += 1
                if failures == 1 { logger.error("door input read failed", metadata: ["door.id": "\(door)", "error": "\(error)"]) }
                Thread.sleep(forTimeInterval: 0.5)
                continue
            }
            let received = Self.monotonicNanoseconds()
            for event in events {
                guard var state = states[event.offset] else { continue }
                // min(): a kernel stamping another clock (pre-5.7: CLOCK_REALTIME) must not stall debouncing.
                state.pending = event.rising == state.stable ? nil : (event.rising, min(event.timestampNanoseconds, received))
                states[event.offset] = state
            }
            let checked = Self.monotonicNanoseconds()
            for offset in lines.offsets {
                guard var state = states[offset], let pending = state.pending,
                      checked >= pending.since + debounce || debounce == 0
                else { continue }
                state.stable = pending.level
                state.pending = nil
                states[offset] = state
                report(offset, active: isActive(offset, level: pending.level))
            }
        }
    }

    private func isActive(_ offset: UInt32, level: Bool) -> Bool {
        level != (roles[offset]?.activeLow ?? false)
    }

    private func report(_ offset: UInt32, active: Bool) {
        guard let role = roles[offset]?.role else { return }
        logger.info("door input", metadata: ["door.id": "\(door)", "input.role": "\(role.rawValue)", "input.active": "\(active)"])
        switch role {
        case .contact: submit(.contact(door: door, open: active))
        case .exitRequest: if active { submit(.exitRequest(door: door)) }
        case .fire: submit(.fire(door: nil, active: active))
        case .tamper: if active { submit(.tamper(door: door)) }
        }
    }

    /// `CLOCK_MONOTONIC`, the clock of the kernel's edge-event timestamps.
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
