public import GateConfiguration
import Foundation
import GateControl
import GateCore
public import GateHub
public import GateStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps a fleet gate's SQLite replica of its site's directory in step with the hub (docs/fleet.md).
///
/// One session per hub connection: it LISTENs on the site's channel and pulls on every notification and at
/// least every `fleet.pollSeconds`; each batch is applied in ONE SQLite transaction together with its
/// sequence (`GateDatabase.applyReplica`), so a gate killed mid-batch pulls the same batch again. Erasures and
/// withdrawals delete local templates in that transaction; the gate then writes deletion receipts back. Local
/// access decisions and alarms are pushed after every pull, idempotent by (gate, local seq): exactly once.
///
/// A hub that stops answering without closing the connection (a cut cable, a partition: no RST ever comes) is
/// given up after `answerTimeout` without progress: the connection is closed, the status turns `hubUnreachable`
/// and the session starts again, rather than waiting for TCP to time out (15 minutes and more).
///
/// A lost connection is retried with `Backoff`; meanwhile the gate decides from its replica. `optgate status`
/// shows the service `fleet` as `synced`, `hubUnreachable` or `stale`; when no sync has succeeded for
/// `fleet.staleAfterSeconds`, one `fleet.stale` alarm is recorded (again only after a sync succeeded).
public final class FleetSyncService: Service, Sendable {
    let configuration: FleetConfiguration
    let credentials: GateCredentials
    let database: GateDatabase
    let health: HealthBoard
    let logger: Logger
    let state: Mutex<SyncState>

    /// How long one sync may wait for the hub without progress (a batch applied, a chunk of events pushed).
    static let answerTimeout: Duration = .seconds(10)

    struct SyncState {
        var lastSync: ContinuousClock.Instant
        var staleRaised = false
        var reachable = false
        var appliedSeq: Int64 = 0
        var lastError: String?
        /// Since when the running sync has waited for the hub (nil: none running).
        var waitingSince: ContinuousClock.Instant?
        /// The applied sequence this session has told the hub (nil: none yet).
        var reportedSeq: Int64?
        /// The witnessed head (its seq) this gate's log was found not to contain; alarm raised once per head.
        var auditDiverged: Int64?
        /// The hub went back to an older sequence: the gate holds its replica until a manager's `gate resync`.
        var hubRolledBack: RolledBack?
    }

    public init(configuration: FleetConfiguration, credentials: GateCredentials, database: GateDatabase, health: HealthBoard,
                logger: Logger) {
        self.configuration = configuration
        self.credentials = credentials
        self.database = database
        self.health = health
        self.logger = logger
        state = Mutex(SyncState(lastSync: .now, appliedSeq: (try? database.fleetAppliedSeq()) ?? 0))
    }

    public func run() async throws {
        report()
        try? await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.watchStaleness() }
                try await self.connectLoop()
            }
        }
    }

    /// Sessions until cancelled, with back-off between failed ones.
    func connectLoop() async throws {
        let endpoint = try credentials.endpoint().trusting(caFile: configuration.caFile)
        var backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(5))
        while !Task.isCancelled {
            do {
                try await session(endpoint) { backoff.reset() }
            } catch is CancellationError {
                return
            } catch {
                let reason = (error as? HubError)?.description ?? "\(error)"
                let wasReachable = state.withLock { state in
                    defer { state.reachable = false; state.lastError = reason }
                    return state.reachable
                }
                if wasReachable {
                    logger.warning("fleet hub lost; deciding from the local replica", metadata: ["fleet.error": "\(reason)"])
                } else {
                    logger.debug("fleet hub unreachable", metadata: ["fleet.error": "\(reason)"])
                }
                report()
            }
            try await Task.sleep(for: backoff.next())
        }
    }

    /// One connection: catch up, then pull on every notification or poll tick until the connection fails.
    func session(_ endpoint: HubEndpoint, connected: () -> Void) async throws {
        let hub = try await Hub.connect(endpoint, logger: logger)
        do {
            let site = try await hub.gateSite()
            state.withLock { $0.reportedSeq = nil }
            connected()
            let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await hub.listen(site: site) { _ = wake.yield() }
                    throw HubError.unreachable(endpoint.description, reason: "the notification stream ended")
                }
                group.addTask { [poll = configuration.poll] in
                    while true {
                        _ = wake.yield()
                        try await Task.sleep(for: poll)
                    }
                }
                group.addTask {
                    for await _ in wakes {
                        self.progress()
                        defer { self.state.withLock { $0.waitingSince = nil } }
                        try await self.syncOnce(hub)
                    }
                }
                group.addTask {
                    // A query the hub never answers would hang this session for good: close the connection.
                    while true {
                        try await Task.sleep(for: .seconds(1))
                        let since = self.state.withLock { $0.waitingSince }
                        if let since, ContinuousClock.now - since > Self.answerTimeout {
                            // Closing fails the hung query and the LISTEN; this error, thrown first, is the reason.
                            Task { await hub.close() }
                            throw HubError.unreachable(endpoint.description,
                                                       reason: "no answer for \(Self.answerTimeout.components.seconds) s")
                        }
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
            await hub.close()
        } catch {
            await hub.close()
            throw error
        }
    }

    /// Pulls and applies every batch after the local sequence, writes receipts, reports the sequence, pushes
    /// local events.
    func syncOnce(_ hub: Hub) async throws {
        var applied = try database.fleetAppliedSeq()
        // Read in the round trip that used to ask only where the event push starts (`pushedUpTo`).
        let head = try await hub.changeHead(applied: applied)
        let holding = try await checkHubSequence(hub, head: head, applied: &applied)
        if !holding { try await pullAll(hub, applied: &applied) }
        var pushed = head.pushedUpTo
        while true {
            let events = try database.localEvents(after: pushed, limit: 1000)
            guard let last = events.last else { break }
            logger.debug("fleet events pushing", metadata: ["fleet.localSeq": "\(last.seq)", "fleet.events": "\(events.count)"])
            try await hub.push(events)
            pushed = last.seq
            logger.debug("fleet events pushed", metadata: ["fleet.localSeq": "\(last.seq)", "fleet.events": "\(events.count)"])
            progress()
        }
        // Uses of passes the held hub may no longer know wait for the re-sync.
        if !holding { try await pushVisitorUses(hub) }
        try await witness(hub)
        let recovered = state.withLock { state in
            defer {
                state.lastSync = .now
                state.reachable = true
                state.staleRaised = false
                state.appliedSeq = applied
                state.lastError = nil
            }
            return !state.reachable
        }
        if recovered { logger.info("fleet hub in sync", metadata: ["fleet.seq": "\(applied)"]) }
        report()
    }

    /// Writes owed receipts, pulls and applies every batch after `applied`, and reports where the replica stands.
    func pullAll(_ hub: Hub, applied: inout Int64) async throws {
        try await sendReceipts(hub)
        let limit = 1000
        while let batch = try await hub.pull(after: applied, limit: limit) {
            logger.debug("fleet batch pulled", metadata: ["fleet.seq": "\(batch.lastSeq)", "fleet.changes": "\(batch.changes)"])
            if try !database.applyReplica(batch).isEmpty { try await sendReceipts(hub) }
            applied = batch.lastSeq
            try await hub.reportApplied(applied)
            state.withLock { $0.reportedSeq = applied }
            logger.debug("fleet batch applied", metadata: ["fleet.seq": "\(applied)", "fleet.changes": "\(batch.changes)"])
            progress()
            // A short batch held everything committed when it was read; a later change NOTIFYs again. Not
            // pulling once more to find nothing saves three round trips per gate per change (docs/fleet.md#capacity).
            if batch.changes < limit { break }
        }
        // A gate killed after a batch committed here but before it told the hub would otherwise stay behind at
        // the hub (`gate list`, fan-out) until the next change: report once per session whatever was pulled.
        if state.withLock({ $0.reportedSeq }) != applied {
            try await hub.reportApplied(applied)
            state.withLock { $0.reportedSeq = applied }
        }
    }

    /// The running sync made progress: its answer timeout starts again.
    func progress() {
        state.withLock { $0.waitingSince = .now }
    }

    /// Sends the deletion receipts still owed (`fleetReceiptOutbox`), each removed locally only after the hub has
    /// it: a gate killed between the batch commit and the send sends it on its next sync; a receipt sent twice is
    /// stored once.
    func sendReceipts(_ hub: Hub) async throws {
        for receipt in try database.pendingDeletionReceipts() {
            try await hub.writeDeletionReceipt(changeSeq: receipt.changeSeq, templatesDeleted: receipt.templatesDeleted)
            try database.deletionReceiptDelivered(changeSeq: receipt.changeSeq)
        }
    }

    /// Makes the hub an external witness of this gate's audit log: checks that the log still contains the head
    /// the hub holds (one indexed read), then pushes the current head. A log that no longer contains it (cut off,
    /// rewritten, or the box restored from an older copy together with its anchor file, which the box alone
    /// cannot see) raises `fleet.auditDiverged` here and at the hub, once per witnessed head, and the head is
    /// not pushed until the manager accepts the log as it is (`optgate --hub URL audit heads --accept GATE`).
    func witness(_ hub: Hub) async throws {
        let head = try database.auditHead()
        let witnessed = try await hub.witnessedHead()
        if let witnessed {
            let comparison = try database.compareAudit(withWitnessedSeq: witnessed.seq, hash: witnessed.hash)
            if comparison != .contained {
                let first = state.withLock { state in
                    defer { state.auditDiverged = witnessed.seq }
                    return state.auditDiverged != witnessed.seq
                }
                if first { try await raiseAuditDivergence(hub, witnessed: witnessed, comparison: comparison) }
                return
            }
        }
        state.withLock { $0.auditDiverged = nil }
        if witnessed?.seq != head.seq || witnessed?.hash != head.hash { try await hub.pushAuditHead(head) }
    }

    func raiseAuditDivergence(_ hub: Hub, witnessed: SignedAuditHead, comparison: WitnessComparison) async throws {
        let hex = witnessed.hash.map { String(format: "%02x", $0) }.joined()
        var detail: String
        var localSeq: Int64?
        switch comparison {
        case .behind(let seq):
            localSeq = seq
            detail = "the audit log ends at entry \(seq) but the hub witnessed entry \(witnessed.seq)"
        case .rewritten:
            detail = "entry \(witnessed.seq) of the audit log is not the one the hub witnessed"
        case .contained:
            return
        }
        if let witness = AuditWitness(seq: witnessed.seq, hash: hex), let report = try? database.auditReport(witness: witness),
           let finding = report.findings.first(where: { [.databaseRolledBack, .tailTruncated, .logWiped].contains($0.kind) }) {
            detail += " (\(finding.kind.rawValue): \(finding.message))"
        }
        logger.error("fleet: the audit log diverged from the head the hub witnessed", metadata: [
            "fleet.witnessedSeq": "\(witnessed.seq)", "fleet.localSeq": "\(localSeq.map(String.init) ?? "-")"])
        try database.record(AuditRecord(time: WallTime.current(), category: .alarm, action: .fleetAuditDiverged,
                                        detail: ["witnessedSeq": "\(witnessed.seq)", "localSeq": localSeq.map(String.init) ?? "",
                                                 "witnessedHash": String(hex.prefix(16))]))
        try await hub.raiseFleetAlarm(kind: "auditDiverged", hubSeq: witnessed.seq, gateSeq: localSeq, detail: detail)
        report()
    }

    /// Raises the stale alarm once per outage.
    func watchStaleness() async throws {
        while true {
            try await Task.sleep(for: .milliseconds(500))
            let raise = state.withLock { state in
                guard !state.staleRaised, ContinuousClock.now - state.lastSync > configuration.staleAfter else { return false }
                state.staleRaised = true
                return true
            }
            guard raise else { continue }
            let seconds = configuration.staleAfter.components.seconds
            logger.error("fleet replica stale: no sync with the hub", metadata: ["fleet.staleAfterSeconds": "\(seconds)"])
            do {
                try database.record(AuditRecord(time: WallTime.current(), category: .alarm, action: .fleetStale,
                                                detail: ["staleAfterSeconds": "\(seconds)"]))
            } catch {
                logger.error("fleet stale alarm not recorded", metadata: ["error": "\(error)"])
            }
            report()
        }
    }

    /// The `fleet` line of `optgate status`.
    func report() {
        let snapshot = state.withLock { $0 }
        let stateName = snapshot.hubRolledBack != nil ? "hubRolledBack"
            : snapshot.auditDiverged != nil ? "auditDiverged"
            : snapshot.staleRaised ? "stale" : snapshot.reachable ? "synced" : "hubUnreachable"
        var reason = "applied seq \(snapshot.appliedSeq)"
        if let held = snapshot.hubRolledBack {
            reason += "; the hub went back to change \(held.hubSeq) after this gate applied \(held.appliedSeq): holding the replica "
                + "until a manager runs `optgate --hub URL gate resync GATE`"
        }
        if let seq = snapshot.auditDiverged { reason += "; the audit log no longer contains entry \(seq) the hub witnessed" }
        if let error = snapshot.lastError { reason += "; \(error)" }
        health.update(ServiceHealth(name: "fleet", state: stateName, reason: reason))
    }
}
