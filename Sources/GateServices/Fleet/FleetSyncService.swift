public import GateConfiguration
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
/// A lost connection is retried with `Backoff`; meanwhile the gate decides from its replica. `optgate status`
/// shows the service `fleet` as `synced`, `hubUnreachable` or `stale`; when no sync has succeeded for
/// `fleet.staleAfterSeconds`, one `fleet.stale` alarm is recorded (again only after a sync succeeded).
public final class FleetSyncService: Service, Sendable {
    let configuration: FleetConfiguration
    let credentials: GateCredentials
    let database: GateDatabase
    let health: HealthBoard
    let logger: Logger
    private let state: Mutex<SyncState>

    struct SyncState {
        var lastSync: ContinuousClock.Instant
        var staleRaised = false
        var reachable = false
        var appliedSeq: Int64 = 0
        var lastError: String?
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
        let endpoint = try credentials.endpoint()
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
                    for await _ in wakes { try await self.syncOnce(hub) }
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
        while let batch = try await hub.pull(after: applied, limit: 1000) {
            let deletions = try database.applyReplica(batch)
            for deletion in deletions {
                try await hub.writeDeletionReceipt(changeSeq: deletion.changeSeq, templatesDeleted: deletion.templatesDeleted)
            }
            applied = batch.lastSeq
            try await hub.reportApplied(applied)
            logger.debug("fleet batch applied", metadata: ["fleet.seq": "\(applied)", "fleet.changes": "\(batch.changes)"])
        }
        var pushed = try await hub.pushedUpTo()
        while true {
            let events = try database.localEvents(after: pushed, limit: 500)
            guard let last = events.last else { break }
            try await hub.push(events)
            pushed = last.seq
        }
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
        let stateName = snapshot.staleRaised ? "stale" : snapshot.reachable ? "synced" : "hubUnreachable"
        var reason = "applied seq \(snapshot.appliedSeq)"
        if let error = snapshot.lastError { reason += "; \(error)" }
        health.update(ServiceHealth(name: "fleet", state: stateName, reason: reason))
    }
}
