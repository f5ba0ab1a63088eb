import Dispatch
import Foundation
public import GateConfiguration
import Synchronization
public import GateControl
import GateCore
public import GateStore
public import Logging
public import ServiceLifecycle

/// The executor of the gate's `GateMachine`: drains the input stream, feeds the machine and performs the
/// effects it returns.
///
/// All door state lives in the machine inside `run()` and is touched by one task only, so there are no
/// locks. Inputs arrive on an `AsyncStream` from any thread (readers, the control socket). Relay effects
/// are performed at once on the loop; store work (credential lookups with scrypt PIN checks, audit writes
/// with fsync, counter saves) runs in order on a dedicated serial dispatch queue, never on the cooperative
/// pool, and lookup answers come back into the stream as events, so a fire input or a contact change is
/// never queued behind a slow PIN check. Replies go through the store queue too, so a reply follows the
/// audit entries of its decision. Timers are child tasks that sleep until a deadline the machine asked for
/// and then post a tick; a tick with nothing due is harmless.
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
        /// Once a second: close flood windows, retry audit entries waiting for the store, look for new rules.
        case maintenance
        /// The store answered a lookup of the machine.
        case lookedUp(LookupID, LookupAnswer)
        /// The access rules in the store changed.
        case rules(AccessRules)
        /// The daily anti-passback reset time came round.
        case resetPresence
    }

    /// The configuration in force; replaced by `reload`.
    public var configuration: DaemonConfiguration { settings.value }
    private let settings: Locked<DaemonConfiguration>
    let database: GateDatabase
    let directory: any CredentialDirectory
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
    private let credentialGrantObservers = Locked<[@Sendable (CredentialGrant) -> Void]>([])
    private let decisionObservers = Locked<[@Sendable (String, AccessDecision) -> Void]>([])
    /// Active reader alarms: door → reader → alarms (GateService+ReaderAlarms.swift).
    let readerAlarms = Locked<[String: [String: Set<DoorAlarm>]]>([:])
    let health: HealthBoard
    private let journal: AuditJournal
    /// The `rulesVersion()` of the rules last handed to the machine; read and written on the store queue.
    private let rulesVersion = Locked<Int64?>(nil)
    private let stalling = Mutex(false)

    /// - Parameter directory: where credentials are looked up; the database unless a test scripts it.
    public init(configuration: DaemonConfiguration, database: GateDatabase, relays: [String: any Relay], clock: C,
                logger: Logger, simulated: Bool, faceStatus: Locked<FaceStatus> = Locked(FaceStatus()),
                health: HealthBoard = HealthBoard(), directory: (any CredentialDirectory)? = nil) {
        self.faceStatus = faceStatus
        self.health = health
        journal = AuditJournal(database: database, health: health, logger: logger)
        settings = Locked(configuration)
        self.database = database
        self.directory = directory ?? database
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

    /// Calls `observer` on the decision loop for every card or PIN granted to a resident (camera enrolment
    /// starts on the resident's own credential). It must return at once: it runs before the next input.
    public func observeCredentialGrants(_ observer: @escaping @Sendable (CredentialGrant) -> Void) {
        credentialGrantObservers.value.append(observer)
    }

    /// `observer(door, decision)` after every card, PIN or face decision (reader feedback: LED, buzzer).
    /// It must return at once.
    func observeDecisions(_ observer: @escaping @Sendable (String, AccessDecision) -> Void) {
        decisionObservers.value.append(observer)
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

    /// The loop's own state: the machine and the replies it owes.
    struct Loop {
        var machine: GateMachine<C.Instant>
        var replies: [RequestID: Reply] = [:]
        var nextRequest: UInt64 = 0
        /// Deadlines the machine asked to be woken at, not yet scheduled as timer tasks.
        var wakes: [C.Instant] = []

        mutating func request(_ reply: Reply?) -> RequestID? {
            guard let reply else { return nil }
            nextRequest += 1
            replies[RequestID(nextRequest)] = reply
            return RequestID(nextRequest)
        }
    }

    public func run() async throws {
        var loop = Loop(machine: GateMachine(settings: configuration.gateSettings))
        for door in configuration.doors {
            try? relays[door.name]?.set(energized: door.energized(unlocked: false))
        }
        let saved = await offload { (try self.database.pinGuessCounters(), try self.database.presence()) }
        switch saved {
        case .success(let (counters, presence)):
            feed(.restore(guessCounters: counters, presence: presence), to: &loop)
        case .failure(let error):
            logger.error("could not read the wrong-PIN counters", metadata: ["error": "\(error)"])
        }
        _ = await offload { self.refreshRules(force: true) }
        await record(AuditRecord(time: .current(), category: .system, action: .daemonStart,
                                 detail: ["doors": configuration.doors.map(\.name).joined(separator: ",")]))
        logger.info("gate ready", metadata: ["doors": "\(configuration.doors.map(\.name))"])

        await withDiscardingTaskGroup { group in
            group.addTask { [continuation, clock] in
                // Retention: blank old events now and once a day.
                while !Task.isCancelled {
                    continuation.yield(.purge)
                    try? await clock.sleep(for: .seconds(86_400))
                }
            }
            group.addTask { [continuation, clock] in
                while !Task.isCancelled {
                    try? await clock.sleep(for: .seconds(1))
                    continuation.yield(.maintenance)
                }
            }
            if let reset = configuration.presenceDailyReset {
                group.addTask { [continuation, clock, zone = configuration.siteTimeZone] in
                    while !Task.isCancelled {
                        try? await clock.sleep(for: reset.interval(after: .current(), in: zone))
                        if Task.isCancelled { break }
                        continuation.yield(.resetPresence)
                    }
                }
            }
            for await event in events.cancelOnGracefulShutdown() {
                await handle(event, loop: &loop)
                for deadline in loop.wakes {
                    group.addTask { [continuation, clock] in
                        try? await clock.sleep(until: deadline, tolerance: .milliseconds(5))
                        continuation.yield(.tick)
                    }
                }
                loop.wakes.removeAll()
            }
            group.cancelAll()
        }
        continuation.finish()
        feed(.shutdown, to: &loop)
        for door in configuration.doors {
            guard let relay = relays[door.name] else { continue }
            try? relay.set(energized: false)
            logger.info("relay released to its safe level", metadata: ["door.id": "\(door.name)"])
        }
        // After every entry still queued on the store queue.
        await record(AuditRecord(time: .current(), category: .system, action: .daemonStop))
    }

    private func handle(_ event: Event, loop: inout Loop) async {
        switch event {
        case .input(let input, let reply):
            if case .readerAlarm(let door, let reader, let alarm, let active, let problem) = input {
                readerAlarm(alarm, reader: reader, active: active, problem: problem, door: door, loop: &loop)
                reply?(ControlResponse(ok: true, message: "reader alarm \(alarm.rawValue) \(active ? "raised" : "cleared") at door \(door)"))
            } else if let doorInput = input.doorInput {
                feed(.input(doorInput, request: loop.request(reply)), to: &loop)
            }
        case .lookedUp(let id, let answer):
            feed(.lookedUp(id, answer), to: &loop)
        case .rules(let rules):
            feed(.rules(rules), to: &loop)
        case .tick:
            feed(.tick, to: &loop)
        case .resetPresence:
            feed(.resetPresence, to: &loop)
        case .maintenance:
            feed(.maintenance, to: &loop)
            health.updateStorage { [pending = loop.machine.pendingCollapsedDenials] in $0.collapsedDenials = pending }
            storeQueue.async { [journal] in
                journal.retry()
                self.refreshRules()
            }
        case .purge:
            storeQueue.async { self.purge() }
        case .heartbeat(let token):
            progress.value = token
        case .stall(let duration):
            // SIGTERM must not wait for a simulated hang to run out.
            try? await cancelWhenGracefulShutdown { [clock] in try await clock.sleep(for: duration) }
            stalling.withLock { $0 = false }
        case .reload(let configuration, let reply):
            guard Set(configuration.doors.map(\.name)) == Set(self.configuration.doors.map(\.name)) else {
                reply(.failure("the new configuration changes the set of doors; restart optgated to apply it"))
                return
            }
            settings.value = configuration
            feed(.reconfigure(configuration.gateSettings), to: &loop)
            storeQueue.async {
                // A changed site.timeZone changes the rules without a new rulesVersion.
                self.refreshRules(force: true)
                reply(ControlResponse(ok: true, message: "configuration reloaded"))
            }
        case .status(let reply):
            let snapshot = status(loop.machine)
            storeQueue.async {
                var status = snapshot
                status.counts = self.counts()
                status.filing = try? self.database.filingStatus(self.configuration.compliance.filingThresholds,
                                                                zone: self.configuration.siteTimeZone)
                reply(ControlResponse(ok: true, status: status))
            }
        }
    }

    /// Hands one event to the machine and performs what it returns, in order.
    private func feed(_ event: GateEvent, to loop: inout Loop) {
        let effects = loop.machine.handle(event, now: clock.now, wall: .current())
        for effect in effects {
            perform(effect, loop: &loop)
        }
    }

    private func perform(_ effect: GateEffect<C.Instant>, loop: inout Loop) {
        switch effect {
        case .setLock(let name, let released):
            guard let relay = relays[name], let door = configuration.doors.first(where: { $0.name == name }) else { return }
            let level = door.energized(unlocked: released)
            do {
                try relay.set(energized: level)
                logger.debug("relay set", metadata: ["door.id": "\(name)", "door.lock": "\(released ? "released" : "engaged")"])
            } catch {
                logger.error("relay write failed", metadata: ["door.id": "\(name)", "error": "\(error)"])
            }
        case .lookUp(let id, let query):
            storeQueue.async { [directory, continuation] in
                let answer = directory.answer(query)
                // New rules reach the machine before the answer they may decide.
                self.refreshRules()
                continuation.yield(.lookedUp(id, answer))
            }
        case .audit(let intent):
            storeQueue.async { [journal, logger] in
                let seq = journal.append(AuditRecord(intent))
                guard let message = intent.journal else { return }
                // No resident id or name in the journal (docs/privacy.md): the audit seq finds the row.
                logger.info("\(message.rawValue)", metadata: [
                    "door.id": "\(intent.door ?? "-")", "decision.method": "\(intent.method?.rawValue ?? "-")",
                    "decision.result": "\(intent.result?.rawValue ?? "-")", "decision.reason": "\(intent.reason?.rawValue ?? "-")",
                    "audit.seq": "\(seq.map(String.init) ?? "-")",
                ])
            }
        case .reply(let id, let answer):
            guard let reply = loop.replies.removeValue(forKey: id) else { return }
            let response = switch answer {
            case .done(let message, let decision):
                ControlResponse(ok: true, message: message, decision: decision.map {
                    DecisionSummary(result: $0.result, reason: $0.reason, resident: $0.residentID)
                })
            case .failure(let message):
                ControlResponse.failure(message)
            }
            // After the audit entries of the decision it answers.
            storeQueue.async { reply(response) }
        case .wake(let deadline):
            loop.wakes.append(deadline)
        case .saveGuessCounters(let counters):
            storeQueue.async { [database, logger] in
                do {
                    try database.savePinGuessCounters(counters)
                } catch {
                    logger.error("could not persist the wrong-PIN counters", metadata: ["error": "\(error)"])
                }
            }
        case .savePresence(let changes):
            storeQueue.async { [database, logger] in
                do {
                    try database.savePresence(changes)
                } catch {
                    logger.error("could not persist anti-passback presence", metadata: ["error": "\(error)"])
                }
            }
        case .decided(let door, let decision):
            for observer in decisionObservers.value { observer(door, decision) }
        case .credentialGranted(let residentID, let door, let method):
            let grant = CredentialGrant(residentID: residentID, door: door, method: method)
            for observer in credentialGrantObservers.value { observer(grant) }
        case .log(let line):
            let level: Logger.Level = switch line.level {
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            }
            logger.log(level: level, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
        }
    }

    /// The one place the executor reads the access rules: when `rulesVersion()` changed since the rules the
    /// machine has (or `force`), loads them and posts them into the stream. Runs on the store queue.
    private func refreshRules(force: Bool = false) {
        do {
            let version = try database.rulesVersion()
            guard force || version != rulesVersion.value else { return }
            // Schedules and calendar days are read in the site's civil time (site.timeZone).
            let rules = try database.accessRules(zone: configuration.siteTimeZone)
            rulesVersion.value = version
            continuation.yield(.rules(rules))
        } catch {
            logger.error("could not read the access rules", metadata: ["error": "\(error)"])
        }
    }

    /// Writes an audit entry through the journal, after everything queued before it.
    private func record(_ record: AuditRecord) async {
        _ = await offload { [journal] in journal.append(record) }
    }

    /// Runs on the store queue.
    private func purge() {
        let days = configuration.accessEventRetentionDays
        do {
            let count = try database.purgeEvents(olderThanDays: days, operator: "optgated")
            if count > 0 { logger.info("old events blanked", metadata: ["retention.days": "\(days)", "events.count": "\(count)"]) }
            let passes = try database.purgeVisitorPasses(endedMoreThanDays: days, operator: "optgated")
            if passes > 0 { logger.info("ended visitor passes deleted", metadata: ["retention.days": "\(days)", "passes.count": "\(passes)"]) }
        } catch {
            logger.error("event purge failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs on the store queue.
    /// The store's counts for `status`; `nil` (sent as `{}`) when the store cannot be read.
    private func counts() -> StoreCounts? {
        try? database.counts()
    }

    private func status(_ machine: GateMachine<C.Instant>) -> DaemonStatus {
        var limits = machine.guesses
        let lockedScopes = limits.locked(Array(limits.counters.keys), at: .current())
        let doorStatus = configuration.doors.compactMap { door -> DoorStatus? in
            guard let unit = machine.doors[door.name], let relay = relays[door.name] else { return nil }
            let lock: DoorStatus.Lock = switch unit.lock.lock {
            case .locked: unit.lockedDown ? .lockdown : .locked
            case .unlocked: .unlocked
            case .fireReleased: .fireReleased
            case .held: .passage
            }
            return DoorStatus(
                name: door.name, lock: lock, relayEnergized: relay.isEnergized,
                contact: unit.lock.isOpen ? .open : .closed, fireAlarm: unit.lock.lock == .fireReleased,
                alarms: unit.lock.activeAlarms.union(readerAlarms.value[door.name, default: [:]].values.flatMap { $0 })
                    .sorted { $0.rawValue < $1.rawValue },
                methods: door.methods.sorted { $0.rawValue < $1.rawValue },
                keypadLockedOut: lockedScopes.contains { $0.door == door.name },
                liveness: configuration.faceEntryConfigured && door.name == configuration.face.door && door.methods.contains(.face)
                    ? configuration.face.liveness.policy : nil
            )
        }
        var status = DaemonStatus(version: OptgateVersion.string, pid: getpid(), startedAt: startedAt, simulated: simulated,
                                  face: faceStatus.value,
                                  doors: doorStatus, counts: nil, services: health.serviceStates, storage: health.storage)
        let warnings = ReaderConfiguration.securityWarnings(configuration.readers)
        status.warnings = warnings.isEmpty ? nil : warnings
        return status
    }

    /// Records a supervised reader's alarm raised or cleared, once per change, and keeps it for `status`.
    /// Reader supervision is the executor's: it changes no door state the machine decides on.
    private func readerAlarm(_ alarm: DoorAlarm, reader: String, active: Bool, problem: String, door: String, loop: inout Loop) {
        let changed = readerAlarms.withLockedValue { all -> Bool in
            var alarms = all[door, default: [:]][reader, default: []]
            let changed = active ? alarms.insert(alarm).inserted : alarms.remove(alarm) != nil
            all[door, default: [:]][reader] = alarms
            return changed
        }
        guard changed else { return }
        var detail = ["reader": reader, "alarm": alarm.rawValue]
        if !problem.isEmpty { detail["problem"] = problem }
        let reason = DecisionReason(alarm)
        perform(.audit(AuditIntent(time: .current(), category: .alarm, action: .door(.alarm, method: nil, reason: reason), door: door,
                                   result: active ? .alarm : .cleared, reason: reason, detail: detail, journal: .doorAlarm)),
                loop: &loop)
    }

    /// Runs blocking store work on the store queue, off the cooperative thread pool.
    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            storeQueue.async { continuation.resume(returning: Result { try work() }) }
        }
    }
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

    /// Reads and changes the value under one acquisition of the lock.
    public func withLockedValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        try lock.withLock { try body(&stored) }
    }
}
