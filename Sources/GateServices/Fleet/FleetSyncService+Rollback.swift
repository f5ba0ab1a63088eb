import GateControl
import GateCore
import GateHub
import GateStore
import Logging
import Synchronization

/// A hub restored to an older sequence (docs/fleet.md, "Backup and restore").
///
/// At every sync the gate compares what it applied with the hub's change log of its site: a log that is behind
/// (newest change below the gate's applied sequence) or no longer holds the change the gate applied last was
/// restored from an older backup, since the log is append-only and its sequence only grows. The gate then raises
/// `hubRolledBack` (status, one `fleet.hubRolledBack` alarm here and one `fleet_alarm` row at the hub) and holds:
/// it pulls nothing more and keeps deciding from its replica, so every revocation it applied stays in force, while
/// it still pushes its events (the restored hub lost the newest ones; they are pushed again, each once). It holds
/// until the manager acknowledges with `optgate --hub URL gate resync GATE`; the gate then replaces its replica
/// with a full snapshot of the hub in one transaction and pulls from there.
extension FleetSyncService {
    /// - Returns: whether the gate holds (pull nothing) because the hub went back; `applied` is the sequence the
    ///   replica stands at afterwards (the snapshot's after a re-sync).
    func checkHubSequence(_ hub: Hub, head: HubChangeHead, applied: inout Int64) async throws -> Bool {
        if head.resyncRequested {
            applied = try await resync(hub, from: applied)
            return false
        }
        let held = state.withLock { $0.hubRolledBack }
        guard held != nil || head.rolledBack(applied: applied) || head.rollbackRaised else { return false }
        guard held == nil else { return true }
        let detail = head.newest < applied
            ? "the hub's newest change is \(head.newest) but this gate applied up to \(applied)"
            : "the hub no longer holds change \(applied) this gate applied (newest \(head.newest))"
        logger.error("fleet: the hub went back to an older sequence; holding the replica until a manager runs gate resync",
                     metadata: ["fleet.hubSeq": "\(head.newest)", "fleet.appliedSeq": "\(applied)"])
        if !head.rollbackRaised {
            // At the hub first: a gate that loses the connection here raises both again at its next sync, not one twice.
            try await hub.raiseFleetAlarm(kind: "hubRolledBack", hubSeq: head.newest, gateSeq: applied, detail: detail)
            try database.record(AuditRecord(time: WallTime.current(), category: .alarm, action: .fleetHubRolledBack,
                                            detail: ["hubSeq": "\(head.newest)", "appliedSeq": "\(applied)"]))
        }
        state.withLock { $0.hubRolledBack = RolledBack(hubSeq: head.newest, appliedSeq: applied) }
        report()
        return true
    }

    /// The manager's acknowledgement: a full snapshot of the hub replaces the replica in one transaction.
    func resync(_ hub: Hub, from applied: Int64) async throws -> Int64 {
        let snapshot = try await hub.pull(after: 0, limit: Int(Int32.max))
            ?? ReplicaBatch(lastSeq: 0, changes: 0, residents: [], erased: [], consents: [])
        let erased = try database.replaceReplica(with: snapshot)
        try await hub.resyncDone(seq: snapshot.lastSeq)
        try await hub.reportApplied(snapshot.lastSeq)
        state.withLock { state in
            state.hubRolledBack = nil
            state.reportedSeq = snapshot.lastSeq
            state.appliedSeq = snapshot.lastSeq
        }
        logger.notice("fleet: replica replaced by a full snapshot of the hub", metadata: [
            "fleet.seq": "\(snapshot.lastSeq)", "fleet.previousSeq": "\(applied)", "fleet.residents": "\(snapshot.residents.count)",
            "fleet.erased": "\(erased)"])
        progress()
        return snapshot.lastSeq
    }

    struct RolledBack: Sendable, Hashable {
        var hubSeq: Int64
        var appliedSeq: Int64
    }
}
