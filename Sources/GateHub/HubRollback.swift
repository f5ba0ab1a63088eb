import Foundation
import GateCore
import PostgresNIO

/// A hub restored to an older sequence (docs/fleet.md, "Backup and restore"): what a gate reads to notice it,
/// and the manager's acknowledgement that lets the gate re-sync from zero.
extension HubSchema {
    /// `gate_resync`: the manager's request that a gate replace its replica with a full snapshot of the hub
    /// (`optgate --hub URL gate resync GATE`), the acknowledgement a gate holding after `hubRolledBack` waits for.
    /// The gate marks it done (`done_at`) in its own row only.
    static let hubV3Resync = Migration(name: "hub-v3-resync", statements: [
        """
        CREATE TABLE gate_resync (
            gate_id bigint PRIMARY KEY REFERENCES gate(id),
            requested_at timestamptz NOT NULL DEFAULT now(),
            done_at timestamptz,
            done_seq bigint
        )
        """,
        "ALTER TABLE gate_resync ENABLE ROW LEVEL SECURITY",
        "GRANT SELECT, UPDATE ON gate_resync TO optgate_gate",
        "CREATE POLICY gate_self ON gate_resync TO optgate_gate USING (gate_id = optgate_gate_id()) WITH CHECK (gate_id = optgate_gate_id())",
    ])
}

/// Where the hub's change log of a gate's site stands, compared with what the gate applied, and what the manager
/// asked of the gate: read in one round trip at the start of every sync, together with where the gate's event push
/// starts (so the check costs no round trip of its own: `docs/fleet.md#capacity`).
public struct HubChangeHead: Sendable, Hashable {
    /// The newest change sequence of the site at the hub (0: none).
    public var newest: Int64
    /// Whether the change the gate applied last is still in the hub's log.
    public var holdsApplied: Bool
    /// Whether this gate already raised `hubRolledBack` at its applied sequence and no re-sync has been done since
    /// (a gate restarted while holding keeps holding, and raises the alarm once, not once per start).
    public var rollbackRaised: Bool
    /// Whether the manager asked for a re-sync from zero (`gate resync GATE`) not done yet.
    public var resyncRequested: Bool
    /// The newest local sequence the hub holds from this gate (`pushedUpTo`).
    public var pushedUpTo: Int64

    public init(newest: Int64, holdsApplied: Bool, rollbackRaised: Bool, resyncRequested: Bool, pushedUpTo: Int64 = 0) {
        self.newest = newest
        self.holdsApplied = holdsApplied
        self.rollbackRaised = rollbackRaised
        self.resyncRequested = resyncRequested
        self.pushedUpTo = pushedUpTo
    }

    /// The hub is behind the gate: it was restored from a copy older than what the gate applied. A change log is
    /// append-only and its sequence only grows, so neither can happen otherwise.
    public func rolledBack(applied: Int64) -> Bool {
        applied > 0 && (newest < applied || !holdsApplied)
    }
}

extension Hub {
    /// This gate's `HubChangeHead` for applied sequence `applied` (index reads only).
    public func changeHead(applied: Int64) async throws(HubError) -> HubChangeHead {
        do {
            let (newest, holds, raised, resync, pushed) = try await execute("""
                SELECT (SELECT coalesce(max(seq), 0) FROM change WHERE site_id = optgate_gate_site()),
                       EXISTS (SELECT 1 FROM change WHERE site_id = optgate_gate_site() AND seq = \(applied)),
                       EXISTS (SELECT 1 FROM fleet_alarm a WHERE a.gate_id = optgate_gate_id() AND a.kind = 'hubRolledBack'
                                 AND a.gate_seq = \(applied)
                                 AND NOT EXISTS (SELECT 1 FROM gate_resync r WHERE r.gate_id = a.gate_id AND r.done_at >= a.time)),
                       EXISTS (SELECT 1 FROM gate_resync WHERE gate_id = optgate_gate_id() AND done_at IS NULL),
                       (SELECT coalesce(max(local_seq), 0) FROM event WHERE gate_id = optgate_gate_id())
                """)[0].decode((Int64, Bool, Bool, Bool, Int64).self)
            return HubChangeHead(newest: newest, holdsApplied: holds, rollbackRaised: raised, resyncRequested: resync, pushedUpTo: pushed)
        } catch { throw HubError.from(error) }
    }

    /// The gate replaced its replica with the snapshot up to `seq`: the request is done.
    public func resyncDone(seq: Int64) async throws(HubError) {
        do {
            try await execute("UPDATE gate_resync SET done_at = now(), done_seq = \(seq) WHERE gate_id = optgate_gate_id() AND done_at IS NULL")
        } catch { throw HubError.from(error) }
    }

    /// The gates holding after `hubRolledBack` (an alarm no re-sync has been done after), with their newest
    /// such alarm: what `gate list` marks as held.
    public func heldGates() async throws(HubError) -> [String: FleetAlarm] {
        do {
            var held: [String: FleetAlarm] = [:]
            for row in try await execute("""
                SELECT g.name, a.kind, a.hub_seq, a.gate_seq, a.detail, a.time FROM fleet_alarm a JOIN gate g ON g.id = a.gate_id
                WHERE a.kind = 'hubRolledBack'
                  AND NOT EXISTS (SELECT 1 FROM gate_resync r WHERE r.gate_id = a.gate_id AND r.done_at >= a.time)
                ORDER BY a.id
                """) {
                let (gate, kind, hubSeq, gateSeq, detail, time) = try row.decode((String, String, Int64?, Int64?, String, Date).self)
                held[gate] = FleetAlarm(gate: gate, kind: kind, hubSeq: hubSeq, gateSeq: gateSeq, detail: detail, time: time)
            }
            return held
        } catch { throw HubError.from(error) }
    }

    /// The manager's acknowledgement (`gate resync GATE`): the gate replaces its replica with a full snapshot of
    /// the hub as it is now at its next sync, and pulls again from there.
    public func requestResync(gate: String) async throws(HubError) {
        do {
            guard try await !execute("SELECT 1 FROM gate WHERE name = \(gate)").isEmpty else { throw HubError.notFound("The gate \(gate)") }
            try await execute("""
                INSERT INTO gate_resync (gate_id) SELECT id FROM gate WHERE name = \(gate)
                ON CONFLICT (gate_id) DO UPDATE SET requested_at = now(), done_at = NULL, done_seq = NULL
                """)
        } catch { throw HubError.from(error) }
    }
}
