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
        /// Once a second: close flood windows, retry audit entries waiting for the store.
        case maintenance
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
    private let credentialGrantObservers = Locked<[@Sendable (CredentialGrant) -> Void]>([])
    private let decisionObservers = Locked<[@Sendable (String, AccessDecision) -> Void]>([])
    /// Active reader alarms: door → reader → alarms (GateService+ReaderAlarms.swift).
    let readerAlarms = Locked<[String: [String: Set<DoorAlarm>]]>([:])
    let health: HealthBoard
    private let journal: AuditJournal
    private let denials: Locked<DenialCollapser<DenialKey, C.Instant>>
    /// Wrong-PIN counters of every keypad and door, persisted on every change. Touched only by the
    /// decision loop (and read by status, on it).
    private let guesses: Locked<PinGuessLimits>
    private let stalling = Mutex(false)

    public init(configuration: DaemonConfiguration, database: GateDatabase, relays: [String: any Relay], clock: C,
                logger: Logger, simulated: Bool, faceStatus: Locked<FaceStatus> = Locked(FaceStatus()),
                health: HealthBoard = HealthBoard()) {
        self.faceStatus = faceStatus
        self.health = health
        journal = AuditJournal(database: database, health: health, logger: logger)
        denials = Locked(DenialCollapser(rules: .init(window: .seconds(60), individually: 20)))
        settings = Locked(configuration)
        guesses = Locked(PinGuessLimits(rules: configuration.lockout))
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

    public func run() async throws {
        var doors: [String: DoorUnit<C.Instant>] = [:]
        for door in configuration.doors {
            guard let relay = relays[door.name] else { continue }
            let unit = DoorUnit<C.Instant>(configuration: door, relay: relay, pinEntry: configuration.pinEntry)
            try? unit.relay.set(energized: unit.energized(unlocked: false))
            doors[door.name] = unit
        }
        await loadGuessCounters()
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
            group.addTask { [continuation, clock] in
                while !Task.isCancelled {
                    try? await clock.sleep(for: .seconds(1))
                    continuation.yield(.maintenance)
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
        await recordCollapsedDenials(all: true)
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
                if doors[name]!.tickKeypads(at: now) {
                    logger.debug("keypad entry timed out", metadata: ["door.id": "\(name)"])
                }
            }
        case .purge:
            await purge()
        case .maintenance:
            await recordCollapsedDenials(all: false)
            _ = await offload { [journal] in journal.retry() }
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
            for door in configuration.doors { doors[door.name]!.reconfigure(door, pinEntry: configuration.pinEntry) }
            guesses.value.rules = configuration.lockout
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
            if let decision, decision.result == .granted || decision.result == .denied {
                for observer in decisionObservers.value { observer(name, decision) }
            }
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
        case .key(_, let key, let keypad):
            switch unit.key(key, keypad: keypad, at: now) {
            case .none, .timedOut:
                return nil
            case .reject(let reason):
                let decision = AccessDecision(result: .denied, reason: reason)
                await log(decision, method: .pin, door: door)
                return decision
            case .submit(let pin, let unitCode):
                return await checkPIN(pin, unitCode: unitCode, keypad: keypad, at: &unit)
            }
        case .face(_, nil):
            // A stranger: this line and one event without any data about the face (R10).
            let decision = AccessDecision(result: .denied, reason: .noMatch)
            await log(decision, method: .face, door: door)
            return decision
        case .face(_, let residentID?):
            let lookup = await offload { try self.database.faceHolder(residentID: residentID, door: door) }
            if case .success(let found) = lookup, !found.inScope {
                // The consent in force does not cover this door (its scope changed since the index was
                // built): recorded like a stranger, without the resident, who did not consent to be seen here.
                let decision = AccessDecision(result: .denied, reason: .outOfScope)
                await log(decision, method: .face, door: door)
                return decision
            }
            return await decide(.face, holder: lookup.map(\.holder), at: &unit)
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
        case .readerAlarm(_, let reader, let alarm, let active, let problem):
            await readerAlarm(alarm, reader: reader, active: active, problem: problem, door: door)
        }
        return nil
    }

    /// A submitted PIN, bounded by the wrong-PIN counters of its keypad and door (docs/privacy.md).
    ///
    /// While a scope is locked the PIN is refused unchecked. Otherwise the attempt is charged as a wrong
    /// PIN and the charge is made durable *before* the slow hash is checked, so neither a restart nor a
    /// kill during the check wins a free guess; only a PIN that turns out to be a resident's takes its
    /// own charge back. Nobody else's success ever lowers the count.
    private func checkPIN(_ pin: PIN, unitCode: String?, keypad: String, at unit: inout DoorUnit<C.Instant>) async -> AccessDecision {
        let door = unit.configuration.name
        let scopes = PinGuessLimits.scopes(keypad: keypad, door: door)
        let now = WallTime.current()
        if !guesses.value.locked(scopes, at: now).isEmpty {
            let decision = AccessDecision(result: .denied, reason: .lockedOut)
            await log(decision, method: .pin, door: door)
            return decision
        }
        let before = guesses.value
        let started = guesses.value.charge(scopes, at: now)
        await saveGuessCounters(scopes)
        let match = await offload {
            if let unitCode { try self.database.holders(ofPIN: pin, unitCode: unitCode) } else { try self.database.holders(ofPIN: pin) }
        }
        let holder: Result<CredentialHolder?, any Error>
        switch match {
        case .success(.one(let found)):
            holder = .success(found)
        case .success(.none):
            holder = .success(nil)
        case .success(.ambiguous(let count)):
            // Several residents share this PIN: nobody is let in on it, and the manager is told.
            logger.warning("a PIN typed at the keypad belongs to several residents; none was let in",
                           metadata: ["door.id": "\(door)", "pin.holders": "\(count)"])
            let decision = AccessDecision(result: .denied, reason: .ambiguousPin)
            await log(decision, method: .pin, door: door)
            await record(AuditRecord(time: .current(), category: .alarm, action: "pin.ambiguous", door: door, method: .pin,
                                     result: .alarm, reason: .ambiguousPin, detail: ["holders": "\(count)"]))
            await finishCharge(scopes, started: started, refundTo: nil, door: door)
            return decision
        case .failure(let error):
            holder = .failure(error)
        }
        let decision = await decide(.pin, holder: holder, at: &unit)
        // A PIN that is a resident's (granted, or denied as expired or disabled here) was no guess.
        let refund = decision.residentID != nil ? before : nil
        await finishCharge(scopes, started: started, refundTo: refund, door: door)
        return decision
    }

    private func finishCharge(_ scopes: [GuessScope], started: [GuessScope], refundTo before: PinGuessLimits?, door: String) async {
        if let before {
            for scope in scopes { guesses.value.set(before.counter(scope), for: scope) }
            await saveGuessCounters(scopes)
        } else if !started.isEmpty {
            let limits = guesses.value
            let until = started.compactMap { limits.counter($0).lockedUntil }.max()
            logger.notice("keypad locked out after wrong PINs", metadata: [
                "door.id": "\(door)", "lockout.scopes": "\(started.map(\.kind).joined(separator: ","))",
                "lockout.seconds": "\(until.map { ($0.millisecondsSince1970 - WallTime.current().millisecondsSince1970 + 999) / 1000 } ?? 0)",
            ])
            await alarm(.keypadLockout, door: door, method: .pin)
        }
    }

    private func saveGuessCounters(_ scopes: [GuessScope]) async {
        let limits = guesses.value
        let changed = Dictionary(uniqueKeysWithValues: scopes.map { ($0, limits.counter($0)) })
        if case .failure(let error) = await offload({ try self.database.savePinGuessCounters(changed) }) {
            logger.error("could not persist the wrong-PIN counters", metadata: ["error": "\(error)"])
        }
    }

    private func loadGuessCounters() async {
        switch await offload({ try self.database.pinGuessCounters() }) {
        case .success(let saved):
            for (scope, counter) in saved { guesses.value.set(counter, for: scope) }
            let now = WallTime.current()
            let locked = guesses.value.locked(Array(saved.keys), at: now)
            if !locked.isEmpty {
                logger.notice("keypad lockout carried over from before the restart", metadata: ["lockout.scopes": "\(locked.count)"])
            }
        case .failure(let error):
            logger.error("could not read the wrong-PIN counters", metadata: ["error": "\(error)"])
        }
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
        if decision.isGranted, method == .card || method == .pin, let residentID = decision.residentID {
            let grant = CredentialGrant(residentID: residentID, door: unit.configuration.name, method: method)
            for observer in credentialGrantObservers.value { observer(grant) }
        }
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

    /// Records a reader alarm raised or cleared, once per change, and keeps it for `status`.
    private func readerAlarm(_ alarm: DoorAlarm, reader: String, active: Bool, problem: String, door: String) async {
        let changed = readerAlarms.withLockedValue { all -> Bool in
            var alarms = all[door, default: [:]][reader, default: []]
            let changed = active ? alarms.insert(alarm).inserted : alarms.remove(alarm) != nil
            all[door, default: [:]][reader] = alarms
            return changed
        }
        guard changed else { return }
        var detail = ["reader": reader, "alarm": alarm.rawValue]
        if !problem.isEmpty { detail["problem"] = problem }
        await log(AccessDecision(result: active ? .alarm : .cleared, reason: DecisionReason(alarm)), method: nil, door: door,
                  category: .alarm, detail: detail)
    }

    private func alarm(_ reason: DecisionReason, door: String, method: AccessMethod?) async {
        await log(AccessDecision(result: .alarm, reason: reason), method: method, door: door, category: .alarm)
    }

    private func log(_ decision: AccessDecision, method: AccessMethod?, door: String, operator op: String? = nil,
                     category: AuditCategory = .access, detail: [String: String] = [:]) async {
        if decision.result == .denied, DenialKey.collapsible.contains(decision.reason),
           denials.withLockedValue({ $0.admit(DenialKey(door: door, method: method, reason: decision.reason), at: clock.now) }) == .collapse {
            return
        }
        let seq = await record(AuditRecord(
            time: .current(), category: category, action: "\(category.rawValue).\(method?.rawValue ?? decision.reason.rawValue)",
            door: door, method: method, result: decision.result, reason: decision.reason, residentID: decision.residentID,
            operator: op, detail: detail
        ))
        // No resident id or name in the journal (docs/privacy.md): the audit seq finds the row.
        let message: Logger.Message = decision.reason == .noMatch ? "face: no match" : category == .alarm ? "door alarm" : "access decision"
        logger.info(
            message,
            metadata: [
                "door.id": "\(door)", "decision.method": "\(method?.rawValue ?? "-")",
                "decision.result": "\(decision.result.rawValue)", "decision.reason": "\(decision.reason.rawValue)",
                "audit.seq": "\(seq.map(String.init) ?? "-")",
            ]
        )
    }

    /// Writes an audit entry through the journal, which holds it in memory while the store refuses writes.
    /// - Returns: the entry's seq, `nil` while it waits in memory for the store to take writes again.
    @discardableResult
    private func record(_ record: AuditRecord) async -> Int64? {
        (try? await offload { [journal] in journal.append(record) }.get()) ?? nil
    }

    /// Writes one counted entry per closed flood window (`DenialCollapser`); `all` at shutdown.
    private func recordCollapsedDenials(all: Bool) async {
        let now = clock.now
        let closed = denials.withLockedValue { all ? $0.closeAll() : $0.closeWindows(at: now) }
        health.updateStorage { $0.collapsedDenials = denials.value.pendingCollapsed }
        let wallNow = WallTime.current()
        for window in closed {
            let age = window.windowStart.duration(to: now)
            let start = wallNow.advanced(by: .zero - age)
            logger.notice("repeated denials collapsed into one entry", metadata: [
                "door.id": "\(window.key.door)", "decision.reason": "\(window.key.reason.rawValue)", "denials.count": "\(window.count)",
            ])
            await record(AuditRecord(
                time: wallNow, category: .access, action: "access.denied.collapsed", door: window.key.door, method: window.key.method,
                result: .denied, reason: window.key.reason,
                detail: ["count": String(window.count), "recordedIndividually": String(window.recorded),
                         "windowStartMs": String(start.millisecondsSince1970),
                         "windowSeconds": String(denials.value.rules.window.components.seconds)]
            ))
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
        let counts = (try? await offload({ try self.database.counts() }).get()).map {
            ["residents": $0.residents, "cards": $0.cards, "pins": $0.pins, "activeConsents": $0.activeConsents,
             "faceTemplates": $0.faceTemplates, "peopleWithFaceData": $0.peopleWithFaceData, "auditEntries": $0.auditEntries]
        } ?? [:]
        let wall = WallTime.current()
        let lockedScopes = guesses.value.locked(Array(guesses.value.counters.keys), at: wall)
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
                alarms: unit.machine.activeAlarms.union(readerAlarms.value[door.name, default: [:]].values.flatMap { $0 })
                    .sorted { $0.rawValue < $1.rawValue },
                methods: door.methods.sorted { $0.rawValue < $1.rawValue },
                keypadLockedOut: lockedScopes.contains { $0.door == door.name }
            )
        }
        var status = DaemonStatus(version: OptgateVersion.string, pid: getpid(), startedAt: startedAt, simulated: simulated,
                                  face: faceStatus.value,
                                  doors: doorStatus, counts: counts, services: health.serviceStates, storage: health.storage)
        let warnings = ReaderConfiguration.securityWarnings(configuration.readers)
        status.warnings = warnings.isEmpty ? nil : warnings
        return status
    }

    /// Runs blocking store work on the store queue, off the cooperative thread pool.
    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            storeQueue.async { continuation.resume(returning: Result { try work() }) }
        }
    }
}

/// What repeated denials are counted by: one flood window per door, method and reason.
struct DenialKey: Sendable, Hashable {
    var door: String
    var method: AccessMethod?
    var reason: DecisionReason

    /// Denials that an outsider can repeat at will (unknown cards, wrong or malformed PINs, strangers'
    /// faces, a locked keypad); a resident's own denials (expired, method disabled) are always recorded.
    static let collapsible: Set<DecisionReason> = [.unknownCard, .unknownPin, .noMatch, .lockedOut, .pinTooShort, .pinTooLong]
}

extension DecisionReason {
    init(_ alarm: DoorAlarm) {
        switch alarm {
        case .readerOffline: self = .readerOffline
        case .readerTamper: self = .readerTamper
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

    /// Reads and changes the value under one acquisition of the lock.
    public func withLockedValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        try lock.withLock { try body(&stored) }
    }
}
