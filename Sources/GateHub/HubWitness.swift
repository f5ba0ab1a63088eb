public import Foundation
public import GateStore
import GateCore
import PostgresNIO

/// The hub as an external witness of each gate's audit log, and the alarms a gate raises at the hub when it or
/// the hub went back in time (docs/fleet.md, "The hub as witness" and "Backup and restore").
extension Hub {
    /// The head this gate last pushed, as the hub keeps it (`nil` before the first push).
    public func witnessedHead() async throws(HubError) -> SignedAuditHead? {
        do {
            guard let row = try await execute("SELECT seq, hash, time, mac FROM audit_head WHERE gate_id = optgate_gate_id()").first else {
                return nil
            }
            let (seq, hash, time, mac) = try row.decode((Int64, Data, Date?, Data?).self)
            return SignedAuditHead(seq: seq, hash: hash, time: WallTime(time ?? Date(timeIntervalSince1970: 0)), mac: mac ?? Data())
        } catch { throw HubError.from(error) }
    }

    /// Records this gate's current head. The hub refuses a head older than, or different at the same entry from,
    /// the one it holds (trigger `audit_head_forward`); the sync service compares before it pushes.
    public func pushAuditHead(_ head: SignedAuditHead) async throws(HubError) {
        do {
            try await execute("""
                INSERT INTO audit_head (gate_id, seq, hash, mac, time) VALUES (optgate_gate_id(), \(head.seq), \(head.hash), \(head.mac), \(head.time.date))
                ON CONFLICT (gate_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac, time = excluded.time,
                    received_at = now()
                WHERE audit_head.seq IS DISTINCT FROM excluded.seq OR audit_head.hash IS DISTINCT FROM excluded.hash
                """)
        } catch { throw HubError.from(error) }
    }

    /// Appends an alarm of this gate for the manager (`auditDiverged`, `hubRolledBack`, `revocationConflict`).
    public func raiseFleetAlarm(kind: String, hubSeq: Int64?, gateSeq: Int64?, detail: String) async throws(HubError) {
        do {
            try await execute("""
                INSERT INTO fleet_alarm (gate_id, kind, hub_seq, gate_seq, detail) VALUES (optgate_gate_id(), \(kind), \(hubSeq), \(gateSeq), \(detail))
                """)
        } catch { throw HubError.from(error) }
    }
}

/// A gate's audit head as the hub witnesses it, with the newest alarm the gate raised about its log since.
public struct WitnessedHead: Sendable, Hashable {
    public var gate: String
    public var site: String
    public var seq: Int64?
    public var hash: Data?
    public var receivedAt: Date?
    /// The newest `auditDiverged` alarm after the head was received, if any.
    public var divergence: String?
}

/// An alarm a gate raised at the hub.
public struct FleetAlarm: Sendable, Hashable {
    public var gate: String
    public var kind: String
    public var hubSeq: Int64?
    public var gateSeq: Int64?
    public var detail: String
    public var time: Date
}

// MARK: - The manager's side

extension Hub {
    /// Every gate's witnessed head (`optgate --hub URL audit heads`).
    public func witnessedHeads() async throws(HubError) -> [WitnessedHead] {
        do {
            return try await execute("""
                SELECT g.name, s.name, h.seq, h.hash, h.received_at,
                       (SELECT a.detail FROM fleet_alarm a WHERE a.gate_id = g.id AND a.kind = 'auditDiverged'
                          AND (h.received_at IS NULL OR a.time >= h.received_at) ORDER BY a.id DESC LIMIT 1)
                FROM gate g JOIN site s ON s.id = g.site_id LEFT JOIN audit_head h ON h.gate_id = g.id
                ORDER BY s.name, g.name
                """).map { row in
                    let (gate, site, seq, hash, received, divergence) = try row.decode((String, String, Int64?, Data?, Date?, String?).self)
                    return WitnessedHead(gate: gate, site: site, seq: seq, hash: hash, receivedAt: received, divergence: divergence)
                }
        } catch { throw HubError.from(error) }
    }

    /// Forgets a gate's witnessed head after the manager has looked into a divergence (the box was restored on
    /// purpose, or replaced): the gate's next push becomes the witnessed head. - Returns: whether there was one.
    @discardableResult
    public func acceptAuditHead(gate: String) async throws(HubError) -> Bool {
        do {
            guard try await !execute("SELECT 1 FROM gate WHERE name = \(gate)").isEmpty else { throw HubError.notFound("The gate \(gate)") }
            return try await !execute("""
                DELETE FROM audit_head WHERE gate_id = (SELECT id FROM gate WHERE name = \(gate)) RETURNING gate_id
                """).isEmpty
        } catch { throw HubError.from(error) }
    }

    /// The alarms gates raised at the hub, oldest first.
    public func fleetAlarms(gate: String? = nil) async throws(HubError) -> [FleetAlarm] {
        do {
            return try await execute("""
                SELECT g.name, a.kind, a.hub_seq, a.gate_seq, a.detail, a.time FROM fleet_alarm a JOIN gate g ON g.id = a.gate_id
                WHERE \(gate)::text IS NULL OR g.name = \(gate) ORDER BY a.id
                """).map { row in
                    let (gate, kind, hubSeq, gateSeq, detail, time) = try row.decode((String, String, Int64?, Int64?, String, Date).self)
                    return FleetAlarm(gate: gate, kind: kind, hubSeq: hubSeq, gateSeq: gateSeq, detail: detail, time: time)
                }
        } catch { throw HubError.from(error) }
    }
}
