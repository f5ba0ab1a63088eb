import Foundation
public import GateCore
public import GateStore
import PostgresNIO

// Visitor passes through the hub (docs/fleet.md#visitor-passes): issued and revoked by the manager, replicated
// to every gate of the site by the change log, their uses reported back by the gates.

extension Hub {
    /// The passes named, with uses left as the hub counts them (every gate's reported uses).
    func visitorPasses(_ ids: [String]?, site: Int64? = nil) async throws -> [ReplicaVisitorPass] {
        try await execute("""
            SELECT p.id, p.name, p.code_tag, p.doors, p.valid_from, p.valid_until, p.uses_total, p.revoked_at,
                   (SELECT count(*) FROM visitor_use u WHERE u.pass_id = p.id AND u.site_id = p.site_id)
            FROM visitor_pass p
            WHERE (\(ids)::text[] IS NULL OR p.id = ANY(\(ids))) AND (\(site)::bigint IS NULL OR p.site_id = \(site))
            ORDER BY p.created_at DESC, p.id
            """).map { row in
                let (id, name, tag, doors, from, until, total, revoked, used) =
                    try row.decode((String, String?, Data, [String], Date, Date, Int32, Date?, Int64).self)
                let pass = VisitorPass(id: id, name: name, doors: doors, validFrom: WallTime(from), validUntil: WallTime(until),
                                       usesTotal: Int(total), usesLeft: max(0, Int(total) - Int(used)),
                                       revokedAt: revoked.map { WallTime($0) })
                return ReplicaVisitorPass(pass: pass, codeTag: tag)
            }
    }

    /// Reports this gate's granted visitor decisions; one already there (same gate, same local sequence) is
    /// skipped, so a repeated push counts each use once. - Returns: how many were new.
    @discardableResult
    public func pushVisitorUses(_ uses: [LocalVisitorUse]) async throws(HubError) -> Int {
        guard !uses.isEmpty else { return 0 }
        do {
            return try await transaction { hub in
                var inserted = 0
                for use in uses {
                    inserted += try await hub.execute("""
                        INSERT INTO visitor_use (gate_id, local_seq, site_id, pass_id, time)
                        VALUES (optgate_gate_id(), \(use.seq), optgate_gate_site(), \(use.passID), \(use.time.date))
                        ON CONFLICT DO NOTHING RETURNING local_seq
                        """).count
                }
                return inserted
            }
        } catch { throw HubError.from(error) }
    }

    /// The newest local sequence of a visitor use the hub holds from this gate: where the next report starts.
    public func visitorUsesPushedUpTo() async throws(HubError) -> Int64 {
        do {
            return try await execute("SELECT coalesce(max(local_seq), 0) FROM visitor_use WHERE gate_id = optgate_gate_id()")[0]
                .decode(Int64.self)
        } catch { throw HubError.from(error) }
    }
}

extension HubDirectory {
    /// Issues a pass valid at every gate of the site: the code is stored only as its site-keyed tag, the QR
    /// text is signed with the site's visitor key; both are returned once.
    public func issueVisitorPass(doors: [String], validFor: Duration, uses: Int, name: String?, site: String?,
                                 operator op: String) async throws -> IssuedVisitorPass {
        let doors = Array(Set(doors)).sorted()
        guard !doors.isEmpty else { throw VisitorPassError.invalid("name at least one door") }
        guard (1...1000).contains(uses) else { throw VisitorPassError.invalid("uses must be 1 to 1000") }
        guard validFor > .zero, validFor <= GateDatabase.maximumVisitorValidity else {
            throw VisitorPassError.invalid("the validity must be more than 0 and at most 90 days")
        }
        let siteID = try await resolveSite(site)
        guard let secret = try await hub.execute("SELECT secret FROM site_secret WHERE site_id = \(siteID)").first,
              let keys = SiteKeys(hex: try secret.decode(String.self))
        else { throw HubError.refused("the site secret is damaged") }
        // Whole milliseconds: the QR carries the expiry in milliseconds and must agree with the stored one.
        let start = WallTime(millisecondsSince1970: WallTime.current().millisecondsSince1970)
        let until = start.advanced(by: validFor)
        for _ in 0..<8 {
            let id = VisitorPassID.random()
            let code = VisitorCode.random()
            let pin = PIN(code)!
            let inserted = try await hub.transaction { hub -> Bool in
                // A code that is a resident's PIN typed alone (same lookup tag) or another pass's code is drawn again.
                if try await !hub.execute("""
                    SELECT 1 FROM pin WHERE site_id = \(siteID) AND lookup_tag = \(keys.pinLookupTag(of: pin))
                    UNION ALL SELECT 1 FROM visitor_pass WHERE (site_id = \(siteID) AND code_tag = \(keys.visitorCodeTag(of: pin))) OR id = \(id)
                    """).isEmpty { return false }
                try await hub.execute("""
                    INSERT INTO visitor_pass (id, site_id, name, code_tag, doors, valid_from, valid_until, uses_total, operator)
                    VALUES (\(id), \(siteID), \(name), \(keys.visitorCodeTag(of: pin)), \(doors), \(start.date), \(until.date),
                            \(Int32(uses)), \(op))
                    """)
                return true
            }
            if inserted {
                let pass = VisitorPass(id: id, name: name, doors: doors, validFrom: start, validUntil: until, usesTotal: uses, usesLeft: uses)
                return IssuedVisitorPass(pass: pass, code: code, qrText: keys.visitorQRText(passID: id, expires: until))
            }
        }
        throw VisitorPassError.invalid("no unused code could be drawn; try again")
    }

    /// Revokes a pass at the hub; each gate stops accepting it when the change arrives.
    public func revokeVisitorPass(id: String, operator op: String) async throws {
        let rows = try await hub.execute("UPDATE visitor_pass SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING id")
        if rows.isEmpty {
            if try await hub.execute("SELECT 1 FROM visitor_pass WHERE id = \(id)").isEmpty { throw VisitorPassError.notFound(id) }
            throw VisitorPassError.alreadyRevoked(id)
        }
    }

    /// Every pass of every site, newest first, with the uses the gates reported. No code: the hub has none.
    public func visitorPasses() async throws -> [VisitorPass] {
        try await hub.visitorPasses(nil).map(\.pass)
    }
}

extension LocalDirectory {
    public func issueVisitorPass(doors: [String], validFor: Duration, uses: Int, name: String?, site: String?,
                                 operator op: String) async throws -> IssuedVisitorPass {
        try database.issueVisitorPass(doors: doors, validFor: validFor, uses: uses, name: name, operator: op)
    }

    public func revokeVisitorPass(id: String, operator op: String) async throws {
        try database.revokeVisitorPass(id: id, operator: op)
    }

    public func visitorPasses() async throws -> [VisitorPass] {
        try database.visitorPasses()
    }
}
