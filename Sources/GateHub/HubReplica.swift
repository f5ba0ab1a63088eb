import Foundation
public import GateStore
import GateCore
import PostgresNIO

/// What a gate does at the hub, logged in as its own role (row-level security limits it to its site and itself):
/// pull the changes after its last applied sequence, report where it stands, push events, write receipts.
extension Hub {
    /// The changes after `seq` (at most `limit`), with the current rows of every resident they name, read in one
    /// REPEATABLE READ snapshot so rows and sequence agree. `nil` when there is nothing new.
    public func pull(after seq: Int64, limit: Int = 5000) async throws(HubError) -> ReplicaBatch? {
        do {
            return try await pullBatch(after: seq, limit: limit)
        } catch {
            throw HubError.from(error)
        }
    }

    private func pullBatch(after seq: Int64, limit: Int) async throws -> ReplicaBatch? {
        try await execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            let changes = try await execute("""
                SELECT seq, kind, resident_id, consent_id FROM change WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)
                """).map { try $0.decode((Int64, String, String, Int64?).self) }
            guard let last = changes.last?.0 else {
                try await execute("COMMIT")
                return nil
            }
            var erased: [ReplicaErasure] = []
            var changed: [String] = []
            var consentIDs: [Int64] = []
            for (seq, kind, resident, consent) in changes {
                switch kind {
                case "erase": erased.append(ReplicaErasure(seq: seq, residentID: resident))
                case "consent": if let consent { consentIDs.append(consent) }
                default: changed.append(resident)
                }
            }
            changed = Array(Set(changed)).sorted()
            var residents: [String: ReplicaResident] = [:]
            for row in try await execute("""
                SELECT id, display_name, unit, valid_from, valid_until, groups, created_at FROM resident WHERE id = ANY(\(changed))
                """) {
                let (id, name, unit, from, until, groups, created) = try row.decode((String, String, String, Date?, Date?, [String], Date).self)
                residents[id] = ReplicaResident(id: id, displayName: name, unit: unit, validFrom: from.map { WallTime($0) },
                                                validUntil: until.map { WallTime($0) }, groups: groups, createdAt: WallTime(created),
                                                cards: [], pin: nil)
            }
            for row in try await execute("SELECT resident_id, uid_tag, uid_last4 FROM card WHERE resident_id = ANY(\(changed)) ORDER BY id") {
                let (id, tag, last4) = try row.decode((String, Data, String).self)
                residents[id]?.cards.append(ReplicaCard(tag: tag, last4: last4))
            }
            for row in try await execute("SELECT resident_id, lookup_tag, hash FROM pin WHERE resident_id = ANY(\(changed))") {
                let (id, tag, hash) = try row.decode((String, Data?, String).self)
                residents[id]?.pin = ReplicaPIN(lookupTag: tag, hash: hash)
            }
            var consents: [ReplicaConsent] = []
            for row in try await execute("""
                SELECT c.id, c.resident_id, c.action, c.time, c.notice_version, c.notice_sha256, c.language, c.method, c.operator, c.scope,
                       (SELECT min(seq) FROM change WHERE consent_id = c.id)
                FROM consent c WHERE c.id = ANY(\(consentIDs)) ORDER BY c.id
                """) {
                let (id, resident, action, time, version, sha, language, method, op, scope, changeSeq) =
                    try row.decode((Int64, String, String, Date, String, String, String, String, String, String, Int64).self)
                consents.append(ReplicaConsent(hubID: id, changeSeq: changeSeq, residentID: resident, action: action, time: WallTime(time),
                                               noticeVersion: version, noticeSHA256: sha, language: language, method: method,
                                               operator: op, scope: scope.split(separator: ",").map(String.init)))
            }
            try await execute("COMMIT")
            return ReplicaBatch(lastSeq: last, changes: changes.count, residents: changed.compactMap { residents[$0] },
                                erased: erased, consents: consents)
        } catch {
            _ = try? await execute("ROLLBACK")
            throw error
        }
    }

    /// Records where this gate's replica stands.
    public func reportApplied(_ seq: Int64) async throws(HubError) {
        do {
            try await execute("""
                INSERT INTO gate_sync (gate_id, applied_seq) VALUES (optgate_gate_id(), \(seq))
                ON CONFLICT (gate_id) DO UPDATE SET applied_seq = excluded.applied_seq, time = now()
                """)
        } catch { throw HubError.from(error) }
    }

    /// The gate's acknowledgement that change `seq` (a withdrawal or erasure) deleted its local templates.
    public func writeDeletionReceipt(changeSeq: Int64, templatesDeleted: Int) async throws(HubError) {
        do {
            try await execute("""
                INSERT INTO deletion_receipt (gate_id, change_seq, templates_deleted) VALUES (optgate_gate_id(), \(changeSeq), \(templatesDeleted))
                ON CONFLICT DO NOTHING
                """)
        } catch { throw HubError.from(error) }
    }

    /// Pushes events; one already there (same gate, same local sequence) is skipped, so a push repeated after a
    /// lost acknowledgement stores each event exactly once. - Returns: how many were new.
    @discardableResult
    public func push(_ events: [LocalEvent]) async throws(HubError) -> Int {
        guard !events.isEmpty else { return 0 }
        do {
            return try await transaction { hub in
                var inserted = 0
                for event in events {
                    let rows = try await hub.execute("""
                        INSERT INTO event (gate_id, local_seq, site_id, time, category, action, door, method, result, reason, resident_id)
                        VALUES (optgate_gate_id(), \(event.seq), optgate_gate_site(), \(event.time.date), \(event.category), \(event.action),
                                \(event.door), \(event.method), \(event.result), \(event.reason), \(event.residentID))
                        ON CONFLICT DO NOTHING RETURNING local_seq
                        """)
                    inserted += rows.count
                }
                return inserted
            }
        } catch { throw HubError.from(error) }
    }

    /// The newest local sequence the hub holds from this gate: where the next push starts.
    public func pushedUpTo() async throws(HubError) -> Int64 {
        do {
            return try await execute("SELECT coalesce(max(local_seq), 0) FROM event WHERE gate_id = optgate_gate_id()")[0].decode(Int64.self)
        } catch { throw HubError.from(error) }
    }

    /// Waits for change notifications of `site` and calls `wake` for each (the sync loop's LISTEN).
    public func listen(site: Int64, _ wake: @Sendable () async -> Void) async throws(HubError) {
        do {
            try await connection.listen(on: "optgate_site_\(site)") { notifications in
                for try await _ in notifications { await wake() }
            }
        } catch { throw HubError.from(error) }
    }

    /// This gate's site id (the NOTIFY channel's suffix).
    public func gateSite() async throws(HubError) -> Int64 {
        do {
            guard let site = try await execute("SELECT optgate_gate_site()")[0].decode(Int64?.self) else {
                throw HubError.notFound("A gate for the role \(endpoint.user)")
            }
            return site
        } catch { throw HubError.from(error) }
    }
}
