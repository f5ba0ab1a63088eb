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
            // Its own site named in the query, not only by row-level security: the (site_id, seq) index then
            // skips every other site's changes. Left to the policy alone, each pull walked all changes after
            // `seq` of every site, calling optgate_gate_site() per row: with 200 gates polling, 10,000 changes
            // at another site held the hub at two full cores and a catch-up took 62 s (docs/fleet.md#capacity).
            let changes = try await execute("""
                SELECT seq, kind, coalesce(resident_id, ''), consent_id, pass_id FROM change
                WHERE site_id = (SELECT optgate_gate_site()) AND seq > \(seq) ORDER BY seq LIMIT \(limit)
                """).map { try $0.decode((Int64, String, String, Int64?, String?).self) }
            guard let last = changes.last?.0 else {
                try await execute("COMMIT")
                return nil
            }
            var erased: [ReplicaErasure] = []
            var changed: [String] = []
            var consentIDs: [Int64] = []
            var passIDs: Set<String> = []
            for (seq, kind, resident, consent, pass) in changes {
                switch kind {
                case "erase": erased.append(ReplicaErasure(seq: seq, residentID: resident))
                case "consent": if let consent { consentIDs.append(consent) }
                case "visitor": if let pass { passIDs.insert(pass) }
                default: changed.append(resident)
                }
            }
            changed = Array(Set(changed)).sorted()
            var residents: [String: ReplicaResident] = [:]
            // Each query below runs only when the batch names something it reads (a card revocation has no consent
            // row to read): every gate of a site pulls every change at once (docs/fleet.md#capacity).
            for row in changed.isEmpty ? [] : try await execute("""
                SELECT id, display_name, unit, valid_from, valid_until, groups, created_at FROM resident WHERE id = ANY(\(changed))
                """) {
                let (id, name, unit, from, until, groups, created) = try row.decode((String, String, String, Date?, Date?, [String], Date).self)
                residents[id] = ReplicaResident(id: id, displayName: name, unit: unit, validFrom: from.map { WallTime($0) },
                                                validUntil: until.map { WallTime($0) }, groups: groups, createdAt: WallTime(created),
                                                cards: [], pin: nil)
            }
            for row in changed.isEmpty ? [] : try await execute("SELECT resident_id, uid_tag, uid_last4 FROM card WHERE resident_id = ANY(\(changed)) ORDER BY id") {
                let (id, tag, last4) = try row.decode((String, Data, String).self)
                residents[id]?.cards.append(ReplicaCard(tag: tag, last4: last4))
            }
            for row in changed.isEmpty ? [] : try await execute("SELECT resident_id, lookup_tag, hash FROM pin WHERE resident_id = ANY(\(changed))") {
                let (id, tag, hash) = try row.decode((String, Data?, String).self)
                residents[id]?.pin = ReplicaPIN(lookupTag: tag, hash: hash)
            }
            var consents: [ReplicaConsent] = []
            for row in consentIDs.isEmpty ? [] : try await execute("""
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
            let passes = try await visitorPasses(Array(passIDs).sorted())
            try await execute("COMMIT")
            var batch = ReplicaBatch(lastSeq: last, changes: changes.count, residents: changed.compactMap { residents[$0] },
                                     erased: erased, consents: consents)
            batch.visitorPasses = passes
            return batch
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
    ///
    /// One multi-row `INSERT … ON CONFLICT DO NOTHING` per `pushChunk` events (one round trip, one statement, so
    /// all or none of a chunk): a row-per-statement push held a 500-event batch for 500 round trips, and 200
    /// gates pushing at once stayed far below the fleet benchmark's 5,000 events/s (docs/fleet.md#capacity).
    @discardableResult
    public func push(_ events: [LocalEvent]) async throws(HubError) -> Int {
        var inserted = 0
        var start = events.startIndex
        while start < events.endIndex {
            let end = min(start + Self.pushChunk, events.endIndex)
            do {
                inserted += try await execute(Self.pushStatement(events[start..<end])).count
            } catch { throw HubError.from(error) }
            start = end
        }
        return inserted
    }

    /// Events per statement: 9 parameters each, far below PostgreSQL's 65,535.
    static let pushChunk = 1000

    /// `INSERT INTO event … SELECT … FROM (VALUES ($1::bigint, …), (…)) … ON CONFLICT DO NOTHING RETURNING`: the gate
    /// and its site are looked up once per statement, not once per row.
    static func pushStatement(_ events: ArraySlice<LocalEvent>) -> PostgresQuery {
        var binds = PostgresBindings(capacity: events.count * 9)
        var rows: [String] = []
        rows.reserveCapacity(events.count)
        for event in events {
            let n = binds.count
            rows.append(n == 0
                ? "($1::bigint, $2::timestamptz, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text)"
                : "($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5), $\(n + 6), $\(n + 7), $\(n + 8), $\(n + 9))")
            binds.append(event.seq)
            binds.append(event.time.date)
            binds.append(event.category)
            binds.append(event.action)
            binds.append(event.door)
            binds.append(event.method)
            binds.append(event.result)
            binds.append(event.reason)
            binds.append(event.residentID)
        }
        return PostgresQuery(unsafeSQL: """
            INSERT INTO event (gate_id, local_seq, site_id, time, category, action, door, method, result, reason, resident_id)
            SELECT me.gate, v.local_seq, me.site, v.time, v.category, v.action, v.door, v.method, v.result, v.reason, v.resident
            FROM (SELECT optgate_gate_id() AS gate, optgate_gate_site() AS site) me,
                 (VALUES \(rows.joined(separator: ", "))) AS v(local_seq, time, category, action, door, method, result, reason, resident)
            ON CONFLICT DO NOTHING RETURNING local_seq
            """, binds: binds)
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
