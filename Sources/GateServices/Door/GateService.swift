import Dispatch
import Foundation
import Synchronization
public import GateControl
import GateCore
public import GateStore
public import Logging
public import ServiceLifecycle

/// The decision loop: owns every door's state, turns inputs into decisions, drives the relays and
/// writes each decision to the audit log.
///
/// All door state lives inside `run()` and is touched by one task only, so there are no locks. Inputs
/// arrive on an `AsyncStream` from any thread (readers, the control socket); store work (SQLite
/// transactions with fsync, scrypt PIN checks) runs on a dedicated dispatch queue, never on the
/// cooperative pool. Timers are child tasks that sleep until a door's next deadline and then post a
/// tick; a tick with nothing due is harmless.
public final class GateService<C: Clock>: Service, Sendable where C.Duration == Duration, C.Instant: Sendable {
    public typealias Reply = @Sendable (ControlResponse) -> Void

    enum Event: Sendable {
        case input(GateInput, reply: Reply?)
        case status(reply: Reply)
        case reload(DaemonConfiguration, reply: Reply)
        case heartbeat(UInt64)
        /// Simulation only: hold the loop, as a hung decision would.
        case stall(Duration)
        case tick
        case purge
    }

    /// The configuration in force; replaced by `reload`.
    public var configuration: DaemonConfiguration { settings.value }
    private let settings: Locked<DaemonConfiguration>
    let database: GateDatabase
    let relays: [String: any Relay]
    let clock: C
    let logger: Logger
    let simulated: Bool
    let faceStatus: Locked<FaceStatus>
    let startedAt = WallTime.current()
    private let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let storeQueue = DispatchQueue(label: "optgate.store")
    private let progress = Locked<UInt64>(0)
    private let stalling = Mutex(false)

    public init(configuration: DaemonConfiguration, database: GateDatabase, relays: [String: any Relay], clock: C,
                logger: Logger, simulated: Bool, faceStatus: Locked<FaceStatus> = Locked(FaceStatus())) {
        self.faceStatus = faceStatus
        settings = Locked(configuration)
        self.database = database
        self.relays = relays
        self.clock = clock
        self.logger = logger
        self.simulated = simulated
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Posts an input from any thread. `reply`, if given, is called once with the outcome.
    public func submit(_ input: GateInput, reply: Reply? = nil) {
        if case .terminated = continuation.yield(.input(input, reply: reply)) {
            reply?(.failure("the daemon is shutting down"))
        }
    }

    /// Asks for the daemon's status from any thread.
    public func requestStatus(reply: @escaping Reply) {
        if case .terminated = continuation.yield(.status(reply: reply)) {
            reply(.failure("the daemon is shutting down"))
        }
    }

    /// Replaces the door settings of a running daemon; doors keep their lock, contact and alarm state.
    /// The set of door names must stay the same (a new door needs a restart).
    public func reload(_ configuration: DaemonConfiguration, reply: @escaping Reply) {
        if case .terminated = continuation.yield(.reload(configuration, reply: reply)) {
            reply(.failure("the daemon is shutting down"))
        }
    }

    /// Posts a heartbeat; `processedHeartbeat` reaches `token` once the loop has handled everything before it.
    public func heartbeat(_ token: UInt64) {
        continuation.yield(.heartbeat(token))
    }

    /// The newest heartbeat the decision loop has processed: the watchdog's evidence of progress.
    public var processedHeartbeat: UInt64 { progress.value }

    /// Simulation only: blocks the decision loop for `duration` (tests the watchdog). One stall at a time: a
    /// second is refused while one is queued or running, and shutdown cuts a running one short.
    public func stall(for duration: Duration, reply: @escaping Reply) {
        let accepted = stalling.withLock { running in
            defer { running = true }
            return !running
        }
        guard accepted else {
            reply(.failure("a stall is already running; wait for it to end"))
            return
        }
        if case .terminated = continuation.yield(.stall(duration)) {
            stalling.withLock { $0 = false }
            reply(.failure("the daemon is shutting down"))
            return
        }
        reply(ControlResponse(ok: true, message: "decision loop stalled for \(duration)"))
    }

    public func run() async throws {
        var doors: [String: DoorUnit<C.Instant>] = [:]
        for door in configuration.doors {
            guard let relay = relays[door.name] else { continue }
            let unit = DoorUnit<C.Instant>(configuration: door, relay: relay, pinEntry: configuration.pinEntry,
                                           lockout: configuration.lockout)
            try? unit.relay.set(energized: unit.energized(unlocked: false))
            doors[door.name] = unit
        }
        await record(AuditRecord(time: .current(), category: .system, action: "daemon.start",
                                 detail: ["doors": configuration.doors.map(\.name).joined(separator: ",")]))
        logger.info("gate ready", metadata: ["doors": "\(configuration.doors.map(\.name))"])

        await withDiscardingTaskGroup { group in
            var scheduled = Set<C.Instant>()
            group.addTask { [continuation, clock] in
                // Retention: blank old events now and once a day.
                while !Task.isCancelled {
                    continuation.yield(.purge)
                    try? await clock.sleep(for: .seconds(86_400))
                }
            }
            for await event in events.cancelOnGracefulShutdown() {
                await handle(event, doors: &doors)
                let now = clock.now
                scheduled = scheduled.filter { $0 > now }
                for deadline in doors.values.compactMap(\.nextDeadline) where !scheduled.contains(deadline) {
                    scheduled.insert(deadline)
                    group.addTask { [continuation, clock] in
                        try? await clock.sleep(until: deadline, tolerance: .milliseconds(5))
                        continuation.yield(.tick)
                    }
                }
            }
            group.cancelAll()
        }
        continuation.finish()
        for unit in doors.values {
            try? unit.relay.set(energized: unit.safeLevel)
            logger.info("relay released to its safe level", metadata: ["door.id": "\(unit.configuration.name)"])
        }
        await record(AuditRecord(time: .current(), category: .system, action: "daemon.stop"))
    }

    private func handle(_ event: Event, doors: inout [String: DoorUnit<C.Instant>]) async {
        switch event {
        case .tick:
            let now = clock.now
            for name in doors.keys.sorted() {
                let actions = doors[name]!.machine.tick(at: now)
                await perform(actions, at: &doors[name]!)
                if case .timedOut = doors[name]!.keypad.tick(at: now) {
                    logger.debug("keypad entry timed out", metadata: ["door.id": "\(name)"])
                }
            }
        case .purge:
            await purge()
        case .heartbeat(let token):
            progress.value = token
        case .stall(let duration):
            // SIGTERM must not wait for a simulated hang to run out.
            try? await cancelWhenGracefulShutdown { [clock] in try await clock.sleep(for: duration) }
            stalling.withLock { $0 = false }
        case .reload(let configuration, let reply):
            let current = Set(doors.keys)
            guard Set(configuration.doors.map(\.name)) == current else {
                reply(.failure("the new configuration changes the set of doors; restart optgated to apply it"))
                return
            }
            for door in configuration.doors { doors[door.name]!.reconfigure(door, pinEntry: configuration.pinEntry, lockout: configuration.lockout) }
            settings.value = configuration
            reply(ControlResponse(ok: true, message: "configuration reloaded"))
        case .status(let reply):
            reply(ControlResponse(ok: true, status: await status(doors)))
        case .input(let input, let reply):
            if case .fire(nil, let active) = input {
                for name in doors.keys.sorted() { _ = await apply(.fire(door: name, active: active), to: &doors[name]!) }
                reply?(ControlResponse(ok: true, message: "fire alarm \(active ? "on" : "off") at every door"))
                return
            }
            guard let name = input.door, doors[name] != nil else {
                reply?(.failure("no door is named \(input.door ?? "")"))
                return
            }
            let decision = await apply(input, to: &doors[name]!)
            let unit = doors[name]!
            let state = "door \(name): \(unit.machine.isUnlocked ? "released" : "locked"), \(unit.machine.isOpen ? "open" : "closed")"
                + (unit.machine.activeAlarms.isEmpty ? "" : ", alarms \(unit.machine.activeAlarms.map(\.rawValue).sorted().joined(separator: ","))")
            reply?(ControlResponse(ok: true, message: state, decision: decision.map {
                DecisionSummary(result: $0.result, reason: $0.reason, resident: $0.residentID)
            }))
        }
    }

    /// Applies one input to one door. - Returns: the access decision, for credentials.
    private func apply(_ input: GateInput, to unit: inout DoorUnit<C.Instant>) async -> AccessDecision? {
        let now = clock.now
        let door = unit.configuration.name
        switch input {
        case .card(_, let uid):
            let holder = await offload { try self.database.holder(ofCard: uid) }
            return await decide(.card, holder: holder, at: &unit, detail: ["card": uid.last4])
        case .key(_, let key):
            switch unit.keypad.key(key, at: now) {
            case .none, .timedOut:
                return nil
            case .reject(let reason):
                let decision = AccessDecision(result: .denied, reason: reason)
                await log(decision, method: .pin, door: door)
                return decision
            case .submit(let pin):
                if unit.lockout.isLocked(at: now) {
                    let decision = AccessDecision(result: .denied, reason: .lockedOut)
                    await log(decision, method: .pin, door: door)
                    return decision
                }
                let holder = await offload { try self.database.holder(ofPIN: pin) }
                let decision = await decide(.pin, holder: holder, at: &unit)
                if decision.reason == .unknownPin, unit.lockout.recordFailure(at: clock.now) {
                    await alarm(.keypadLockout, door: door, method: .pin)
                } else if decision.isGranted {
                    unit.lockout.recordSuccess()
                }
                return decision
            }
        case .face(_, nil):
            // A stranger: this line and one event without any data about the face (R10).
            let decision = AccessDecision(result: .denied, reason: .noMatch)
            await log(decision, method: .face, door: door)
            return decision
        case .face(_, let residentID?):
            let holder = await offload { try self.database.faceHolder(residentID: residentID) }
            return await decide(.face, holder: holder, at: &unit)
        case .exitRequest:
            let decision = AccessDecision(result: .granted, reason: .exitRequest)
            await perform(unit.machine.release(at: now), at: &unit)
            await log(decision, method: .rex, door: door)
            return decision
        case .remoteOpen(_, let op):
            let decision = AccessDecision(result: .granted, reason: .remoteOpen)
            await perform(unit.machine.release(at: now), at: &unit)
            await log(decision, method: .remote, door: door, operator: op)
            return decision
        case .contact(_, let open):
            await perform(unit.machine.contact(open: open, at: now), at: &unit)
        case .fire(_, let active):
            await perform(unit.machine.fire(active: active, at: now), at: &unit)
        case .tamper:
            await perform(unit.machine.tamper(at: now), at: &unit)
        }
        return nil
    }

    /// The access policy, then the door: identical for every credential method (R1, R2).
    private func decide(_ method: AccessMethod, holder: Result<CredentialHolder?, any Error>, at unit: inout DoorUnit<C.Instant>,
                        detail: [String: String] = [:]) async -> AccessDecision {
        let decision: AccessDecision
        switch holder {
        case .success(let holder):
            decision = AccessPolicy.decide(method: method, holder: holder, door: unit.policy, now: .current())
        case .failure(let error):
            logger.error("credential lookup failed", metadata: ["error": "\(error)", "door.id": "\(unit.configuration.name)"])
            decision = AccessDecision(result: .denied, reason: AccessPolicy.unknownReason(for: method))
        }
        if decision.isGranted { await perform(unit.machine.release(at: clock.now), at: &unit) }
        await log(decision, method: method, door: unit.configuration.name, detail: detail)
        return decision
    }

    private func perform(_ actions: [DoorAction], at unit: inout DoorUnit<C.Instant>) async {
        let door = unit.configuration.name
        for action in actions {
            switch action {
            case .unlock, .lock:
                let unlocked = action == .unlock
                do {
                    try unit.relay.set(energized: unit.energized(unlocked: unlocked))
                    logger.debug("relay set", metadata: ["door.id": "\(door)", "door.lock": "\(unlocked ? "released" : "engaged")"])
                } catch {
                    logger.error("relay write failed", metadata: ["door.id": "\(door)", "error": "\(error)"])
                }
            case .raise(let alarm):
                await self.alarm(DecisionReason(alarm), door: door, method: alarm == .fire ? .fire : nil)
            case .clear(let alarm):
                let reason: DecisionReason = alarm == .fire ? .fireCleared : .doorClosed
                await log(AccessDecision(result: .cleared, reason: reason), method: alarm == .fire ? .fire : nil, door: door,
                          category: .alarm, detail: ["alarm": alarm.rawValue])
            }
        }
    }

    private func alarm(_ reason: DecisionReason, door: String, method: AccessMethod?) async {
        await log(AccessDecision(result: .alarm, reason: reason), method: method, door: door, category: .alarm)
    }

    private func log(_ decision: AccessDecision, method: AccessMethod?, door: String, operator op: String? = nil,
                     category: AuditCategory = .access, detail: [String: String] = [:]) async {
        let message: Logger.Message = decision.reason == .noMatch ? "face: no match" : category == .alarm ? "door alarm" : "access decision"
        logger.info(
            message,
            metadata: [
                "door.id": "\(door)", "decision.method": "\(method?.rawValue ?? "-")",
                "decision.result": "\(decision.result.rawValue)", "decision.reason": "\(decision.reason.rawValue)",
                "resident.id": "\(decision.residentID ?? "-")",
            ]
        )
        await record(AuditRecord(
            time: .current(), category: category, action: "\(category.rawValue).\(method?.rawValue ?? decision.reason.rawValue)",
            door: door, method: method, result: decision.result, reason: decision.reason, residentID: decision.residentID,
            operator: op, detail: detail
        ))
    }

    private func record(_ record: AuditRecord) async {
        if case .failure(let error) = await offload({ try self.database.record(record) }) {
            logger.critical("could not write the audit log", metadata: ["error": "\(error)", "audit.action": "\(record.action)"])
        }
    }

    private func purge() async {
        let days = configuration.accessEventRetentionDays
        switch await offload({ try self.database.purgeEvents(olderThanDays: days, operator: "optgated") }) {
        case .success(let count) where count > 0:
            logger.info("old events blanked", metadata: ["retention.days": "\(days)", "events.count": "\(count)"])
        case .failure(let error):
            logger.error("event purge failed", metadata: ["error": "\(error)"])
        default:
            break
        }
    }

    private func status(_ doors: [String: DoorUnit<C.Instant>]) async -> DaemonStatus {
        let now = clock.now
        let counts = (try? await offload({ try self.database.counts() }).get()).map {
            ["residents": $0.residents, "cards": $0.cards, "pins": $0.pins, "activeConsents": $0.activeConsents,
             "faceTemplates": $0.faceTemplates, "peopleWithFaceData": $0.peopleWithFaceData, "auditEntries": $0.auditEntries]
        } ?? [:]
        let doorStatus = configuration.doors.compactMap { door -> DoorStatus? in
            guard let unit = doors[door.name] else { return nil }
            let lock = switch unit.machine.lock {
            case .locked: "locked"
            case .unlocked: "unlocked"
            case .fireReleased: "fireReleased"
            }
            return DoorStatus(
                name: door.name, lock: lock, relayEnergized: unit.relay.isEnergized,
                contact: unit.machine.isOpen ? "open" : "closed", fireAlarm: unit.machine.lock == .fireReleased,
                alarms: unit.machine.activeAlarms.sorted { $0.rawValue < $1.rawValue },
                methods: door.methods.sorted { $0.rawValue < $1.rawValue },
                keypadLockedOut: unit.lockout.isLocked(at: now)
            )
        }
        return DaemonStatus(version: OptgateVersion.string, pid: getpid(), startedAt: startedAt, simulated: simulated,
                            face: faceStatus.value,
                            doors: doorStatus, counts: counts)
    }

    /// Runs blocking store work on the store queue, off the cooperative thread pool.
    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            storeQueue.async { continuation.resume(returning: Result { try work() }) }
        }
    }
}

extension DecisionReason {
    init(_ alarm: DoorAlarm) {
        switch alarm {
        case .heldOpen: self = .heldOpen
        case .forcedOpen: self = .forcedOpen
        case .tamper: self = .tamper
        case .fire: self = .fireRelease
        }
    }
}

public enum OptgateVersion {
    public static let string = "0.1.0"
}

/// A value shared between the decision loop and other threads (status, watchdog), behind a lock.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    public init(_ value: Value) { stored = value }

    public var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
