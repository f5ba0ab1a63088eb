import Foundation
public import GateCore
public import GateStore
import PostgresNIO

/// A resident as every management backend lists them.
public struct DirectoryResident: Sendable, Hashable {
    public var id: String
    public var site: String?
    public var displayName: String
    public var unit: String
    public var validUntil: WallTime?
    /// Display form only: the last four hex digits of each card, sorted.
    public var cards: [String]
    public var hasPIN: Bool
    public var faceConsent: Bool
}

extension ManagementDirectory {
    /// Every resident.
    public func residents() async throws -> [DirectoryResident] {
        try await residents(matching: nil, limit: nil)
    }
}

extension DirectoryResident {
    /// Whether `name` or `unit` contains `text`, as a search box means it (case-insensitive; empty matches all).
    public static func matches(name: String, unit: String, text: String?) -> Bool {
        guard let text, !text.isEmpty else { return true }
        return name.localizedCaseInsensitiveContains(text) || unit.localizedCaseInsensitiveContains(text)
    }

    init(_ resident: Resident) {
        self.init(id: resident.id, site: nil, displayName: resident.displayName, unit: resident.unit, validUntil: resident.validUntil,
                  cards: resident.cards.sorted(), hasPIN: resident.hasPIN, faceConsent: resident.faceConsent)
    }
}

/// The management API: one protocol, two backends. `LocalDirectory` writes the gate's own SQLite (single box),
/// `HubDirectory` the fleet's PostgreSQL hub, from which every gate of the site replicates. The conformance
/// suite (`Tests/FleetTests/DirectoryConformanceTests.swift`) runs the same script against both.
public protocol ManagementDirectory: Sendable {
    /// - Parameter site: which site the resident belongs to; required by a hub with several sites, ignored locally.
    func addResident(name: String, unit: String, validUntil: WallTime?, site: String?, operator: String) async throws -> String
    /// The residents whose name or unit contains `text` (case-insensitive; every resident when `nil`), at most
    /// `limit`, in unit order: on a hub the search and the limit are the database's, not a list of every site's residents.
    func residents(matching text: String?, limit: Int?) async throws -> [DirectoryResident]
    /// One resident, looked up by id (not by listing them all); `nil` when there is none.
    func resident(_ id: String) async throws -> DirectoryResident?
    /// Erases the resident and everything of theirs. - Returns: a line for the operator (the receipt).
    func eraseResident(_ id: String, operator: String) async throws -> String
    func addCard(residentID: String, uid: CardUID, operator: String) async throws
    func removeCard(residentID: String, uid: CardUID, operator: String) async throws
    func setPIN(residentID: String, pin: PIN, lookupTag: Bool, operator: String) async throws
    /// Issues a visitor pass (`HubVisitors.swift`): on a hub, valid at every gate of the site.
    /// - Returns: the pass with its keypad code and signed QR text, shown once and stored nowhere in clear.
    func issueVisitorPass(doors: [String], validFor: Duration, uses: Int, name: String?, site: String?, operator: String) async throws -> IssuedVisitorPass
    func revokeVisitorPass(id: String, operator: String) async throws
    /// Every pass, newest first, never with a code.
    func visitorPasses() async throws -> [VisitorPass]
    /// Changes a resident's name, unit, move-in and move-out times; refused when the move-out would not come
    /// after the move-in. At a fleet gate the new move-out time arrives with the change, so every credential of
    /// the resident stops there at that time.
    func updateResident(_ id: String, change: ResidentChange, operator: String) async throws
}

/// What `resident update` changes: `nil` / `.keep` leaves a field as it is, `.set(nil)` clears a time.
public struct ResidentChange: Sendable, Hashable {
    public var name: String?
    public var unit: String?
    public var validFrom: FieldChange<WallTime>
    public var validUntil: FieldChange<WallTime>

    public init(name: String? = nil, unit: String? = nil, validFrom: FieldChange<WallTime> = .keep,
                validUntil: FieldChange<WallTime> = .keep) {
        self.name = name
        self.unit = unit
        self.validFrom = validFrom
        self.validUntil = validUntil
    }
}

/// The single-box backend: the gate's own SQLite store, exactly as the CLI has always written it.
public struct LocalDirectory: ManagementDirectory {
    let database: GateDatabase

    public init(database: GateDatabase) { self.database = database }

    public func addResident(name: String, unit: String, validUntil: WallTime?, site: String?, operator op: String) async throws -> String {
        try database.addResident(name: name, unit: unit, validUntil: validUntil, operator: op)
    }

    public func residents(matching text: String?, limit: Int?) async throws -> [DirectoryResident] {
        let found = try database.residents().filter { DirectoryResident.matches(name: $0.displayName, unit: $0.unit, text: text) }
        return Array(found.prefix(limit ?? found.count)).map(DirectoryResident.init)
    }

    public func resident(_ id: String) async throws -> DirectoryResident? {
        do {
            return DirectoryResident(try database.resident(id))
        } catch GateStoreError.residentNotFound {
            return nil
        }
    }

    public func eraseResident(_ id: String, operator op: String) async throws -> String {
        let receipt = try database.eraseResident(id, operator: op)
        return "receipt: audit entry \(receipt.auditSeq), token \(receipt.token)"
    }

    public func addCard(residentID: String, uid: CardUID, operator op: String) async throws {
        try database.addCard(residentID: residentID, uid: uid, operator: op)
    }

    public func removeCard(residentID: String, uid: CardUID, operator op: String) async throws {
        try database.removeCard(residentID: residentID, uid: uid, operator: op)
    }

    public func setPIN(residentID: String, pin: PIN, lookupTag: Bool, operator op: String) async throws {
        try database.setPIN(residentID: residentID, pin: pin, lookupTag: lookupTag, operator: op)
    }

    public func updateResident(_ id: String, change: ResidentChange, operator op: String) async throws {
        try database.updateResident(id, name: change.name, unit: change.unit, validFrom: change.validFrom,
                                    validUntil: change.validUntil, operator: op)
    }
}

/// The fleet backend: writes go to the hub; each write's change row (logged by the hub's triggers in the same
/// transaction) is what the site's gates replicate.
public struct HubDirectory: ManagementDirectory {
    let hub: Hub

    public init(hub: Hub) { self.hub = hub }

    public func addResident(name: String, unit: String, validUntil: WallTime?, site: String?, operator op: String) async throws -> String {
        let siteID = try await resolveSite(site)
        let id = "r" + SiteSecret.generate().prefix(12)
        try await hub.execute("""
            INSERT INTO resident (id, site_id, display_name, unit, valid_until)
            VALUES (\(id), \(siteID), \(name), \(unit), \(validUntil.map(\.date)))
            """)
        return id
    }

    /// The site a new resident joins: the one named, or the only one.
    func resolveSite(_ name: String?) async throws -> Int64 {
        if let name {
            guard let row = try await hub.execute("SELECT id FROM site WHERE name = \(name)").first else {
                throw HubError.notFound("The site \(name)")
            }
            return try row.decode(Int64.self)
        }
        let rows = try await hub.execute("SELECT id FROM site ORDER BY id LIMIT 2")
        guard rows.count == 1 else {
            throw HubError.refused(rows.isEmpty ? "the hub has no site yet; add one with `optgate site add NAME`"
                                                : "the hub has several sites; please give --site NAME")
        }
        return try rows[0].decode(Int64.self)
    }

    public func residents(matching text: String?, limit: Int?) async throws -> [DirectoryResident] {
        try await residents(id: nil, matching: text.flatMap { $0.isEmpty ? nil : $0 }, limit: limit)
    }

    public func resident(_ id: String) async throws -> DirectoryResident? {
        try await residents(id: id, matching: nil, limit: nil).first
    }

    /// The residents with `id` (when given) whose name or unit contains `text` (when given), at most `limit`.
    private func residents(id: String?, matching text: String?, limit: Int?) async throws -> [DirectoryResident] {
        try await hub.execute("""
            SELECT r.id, s.name, r.display_name, r.unit, r.valid_until,
                   coalesce((SELECT array_agg(c.uid_last4 ORDER BY c.uid_last4) FROM card c WHERE c.resident_id = r.id), '{}'),
                   EXISTS (SELECT 1 FROM pin p WHERE p.resident_id = r.id),
                   coalesce((SELECT action = 'grant' FROM consent k WHERE k.resident_id = r.id ORDER BY id DESC LIMIT 1), false)
            FROM resident r JOIN site s ON s.id = r.site_id
            WHERE (\(id)::text IS NULL OR r.id = \(id))
              AND (\(text)::text IS NULL OR strpos(lower(r.display_name), lower(\(text))) > 0 OR strpos(lower(r.unit), lower(\(text))) > 0)
            ORDER BY s.name, r.unit, r.display_name, r.id LIMIT \(limit ?? Int(Int32.max))
            """).map { row in
                let (id, site, name, unit, validUntil, cards, pin, consent) =
                    try row.decode((String, String, String, String, Date?, [String], Bool, Bool).self)
                return DirectoryResident(id: id, site: site, displayName: name, unit: unit,
                                         validUntil: validUntil.map { WallTime($0) }, cards: cards, hasPIN: pin,
                                         faceConsent: consent)
            }
    }

    /// Deletes the resident with their cards, PIN and consent rows in one transaction and leaves a tombstone
    /// (random id, operator, time); the `erase` change tells every gate of the site to do the same locally,
    /// face templates included, and each gate writes a deletion receipt back.
    public func eraseResident(_ id: String, operator op: String) async throws -> String {
        try await hub.transaction { hub in
            guard let row = try await hub.execute("SELECT site_id FROM resident WHERE id = \(id) FOR UPDATE").first else {
                throw HubError.notFound("The resident \(id)")
            }
            let site = try row.decode(Int64.self)
            try await hub.execute("SELECT set_config('optgate.erasing', \(id), true)")
            let tombstone = try await hub.execute("""
                INSERT INTO erasure (site_id, resident_id, operator) VALUES (\(site), \(id), \(op)) RETURNING id
                """)[0].decode(Int64.self)
            try await hub.execute("DELETE FROM resident WHERE id = \(id)")
            return "receipt: hub erasure \(tombstone); each gate of the site acknowledges it (optgate --hub URL gate list)"
        }
    }

    public func addCard(residentID: String, uid: CardUID, operator op: String) async throws {
        let (site, keys) = try await siteKeys(of: residentID)
        do {
            try await hub.execute("""
                INSERT INTO card (site_id, resident_id, uid_tag, uid_last4)
                VALUES (\(site), \(residentID), \(keys.cardTag(of: uid)), \(uid.last4))
                """)
        } catch HubError.conflict {
            throw HubError.conflict("The card …\(uid.last4) is already enrolled at this site")
        }
    }

    public func removeCard(residentID: String, uid: CardUID, operator op: String) async throws {
        let (_, keys) = try await siteKeys(of: residentID)
        let rows = try await hub.execute("""
            DELETE FROM card WHERE resident_id = \(residentID) AND uid_tag = \(keys.cardTag(of: uid)) RETURNING id
            """)
        if rows.isEmpty { throw HubError.notFound("The card …\(uid.last4) of \(residentID)") }
    }

    public func setPIN(residentID: String, pin: PIN, lookupTag: Bool, operator op: String) async throws {
        let (site, keys) = try await siteKeys(of: residentID)
        let hash = try PortablePINHash.make(pin)
        let tag = lookupTag ? keys.pinLookupTag(of: pin) : nil
        try await hub.execute("""
            INSERT INTO pin (resident_id, site_id, lookup_tag, hash) VALUES (\(residentID), \(site), \(tag), \(hash))
            ON CONFLICT (resident_id) DO UPDATE SET lookup_tag = excluded.lookup_tag, hash = excluded.hash, created_at = now()
            """)
    }

    /// One UPDATE of the resident row: its trigger logs a `resident` change, which every gate of the site applies
    /// (name, unit, validity) in its next batch.
    public func updateResident(_ id: String, change: ResidentChange, operator op: String) async throws {
        try await hub.transaction { hub in
            guard let row = try await hub.execute("SELECT valid_from, valid_until FROM resident WHERE id = \(id) FOR UPDATE").first else {
                throw HubError.notFound("The resident \(id)")
            }
            var (from, until) = try row.decode((Date?, Date?).self)
            if case .set(let value) = change.validFrom { from = value?.date }
            if case .set(let value) = change.validUntil { until = value?.date }
            if let from, let until, until <= from {
                throw HubError.refused("the move-out time must come after the move-in time")
            }
            try await hub.execute("""
                UPDATE resident SET display_name = coalesce(\(change.name), display_name), unit = coalesce(\(change.unit), unit),
                    valid_from = \(from), valid_until = \(until)
                WHERE id = \(id)
                """)
        }
    }

    func siteKeys(of residentID: String) async throws -> (Int64, SiteKeys) {
        guard let row = try await hub.execute("""
            SELECT r.site_id, k.secret FROM resident r JOIN site_secret k ON k.site_id = r.site_id WHERE r.id = \(residentID)
            """).first else { throw HubError.notFound("The resident \(residentID)") }
        let (site, secret) = try row.decode((Int64, String).self)
        guard let keys = SiteKeys(hex: secret) else { throw HubError.refused("the site secret is damaged") }
        return (site, keys)
    }
}

// MARK: - Consent and events (hub only for now)

extension HubDirectory {
    /// Appends a grant to the hub's consent ledger; the `consent` change reaches every gate of the site.
    public func grantConsent(residentID: String, noticeVersion: String, noticeSHA256: String, language: String,
                             method: String, operator op: String, scope: [String]) async throws -> Int64 {
        let (site, _) = try await siteKeys(of: residentID)
        return try await hub.execute("""
            INSERT INTO consent (site_id, resident_id, action, notice_version, notice_sha256, language, method, operator, scope)
            VALUES (\(site), \(residentID), 'grant', \(noticeVersion), \(noticeSHA256), \(language), \(method), \(op),
                    \(scope.joined(separator: ","))) RETURNING id
            """)[0].decode(Int64.self)
    }

    /// Appends a withdrawal (pinned to the grant in force); each gate deletes its templates of the resident when
    /// the change arrives and writes a deletion receipt back.
    public func withdrawConsent(residentID: String, method: String, operator op: String) async throws -> Int64 {
        try await hub.transaction { hub in
            guard let row = try await hub.execute("""
                SELECT action, site_id, notice_version, notice_sha256, language FROM consent
                WHERE resident_id = \(residentID) ORDER BY id DESC LIMIT 1 FOR UPDATE
                """).first else { throw HubError.refused("\(residentID) has no face-recognition consent in force") }
            let (action, site, version, sha, language) = try row.decode((String, Int64, String, String, String).self)
            guard action == "grant" else { throw HubError.refused("\(residentID) has no face-recognition consent in force") }
            return try await hub.execute("""
                INSERT INTO consent (site_id, resident_id, action, notice_version, notice_sha256, language, method, operator, scope)
                VALUES (\(site), \(residentID), 'withdraw', \(version), \(sha), \(language), \(method), \(op), '') RETURNING id
                """)[0].decode(Int64.self)
        }
    }

    /// Events the gates pushed, oldest first.
    public func events(gate: String?, limit: Int?) async throws -> [HubEvent] {
        let rows = try await hub.execute("""
            SELECT * FROM (
                SELECT g.name, e.local_seq, e.time, e.category, e.action, e.door, e.method, e.result, e.reason, e.resident_id
                FROM event e JOIN gate g ON g.id = e.gate_id
                WHERE \(gate)::text IS NULL OR g.name = \(gate)
                ORDER BY e.time DESC, g.name, e.local_seq DESC LIMIT \(limit ?? Int(Int32.max))
            ) newest ORDER BY time, name, local_seq
            """)
        return try rows.map { row in
            let (gate, seq, time, category, action, door, method, result, reason, resident) =
                try row.decode((String, Int64, Date, String, String?, String?, String?, String?, String?, String?).self)
            return HubEvent(gate: gate, event: LocalEvent(seq: seq, time: WallTime(time), category: category, action: action,
                                                          door: door, method: method, result: result, reason: reason,
                                                          residentID: resident))
        }
    }
}

/// An event as the hub keeps it: the gate that pushed it and the entry as that gate recorded it (its audit seq
/// makes it unique per gate).
public struct HubEvent: Sendable, Hashable {
    public var gate: String
    public var event: LocalEvent
}
