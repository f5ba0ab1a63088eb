public import Foundation
import GRDB
public import GateCore
import Synchronization

/// One pull from the hub (docs/fleet.md): the changes after the gate's last applied sequence up to `lastSeq`,
/// with the current rows of every resident they name. Applied in one SQLite transaction with the sequence.
public struct ReplicaBatch: Sendable, Hashable {
    public var lastSeq: Int64
    public var changes: Int
    public var residents: [ReplicaResident]
    public var erased: [ReplicaErasure]
    public var consents: [ReplicaConsent]
    /// Visitor passes issued, revoked or used at the site (hub-v2-visitors), with the hub's count of uses left.
    public var visitorPasses: [ReplicaVisitorPass] = []

    public init(lastSeq: Int64, changes: Int, residents: [ReplicaResident], erased: [ReplicaErasure], consents: [ReplicaConsent]) {
        self.lastSeq = lastSeq
        self.changes = changes
        self.residents = residents
        self.erased = erased
        self.consents = consents
    }
}

public struct ReplicaResident: Sendable, Hashable {
    public var id: String
    public var displayName: String
    public var unit: String
    public var validFrom: WallTime?
    public var validUntil: WallTime?
    public var groups: [String]
    public var createdAt: WallTime
    public var cards: [ReplicaCard]
    public var pin: ReplicaPIN?

    public init(id: String, displayName: String, unit: String, validFrom: WallTime?, validUntil: WallTime?, groups: [String],
                createdAt: WallTime, cards: [ReplicaCard], pin: ReplicaPIN?) {
        self.id = id
        self.displayName = displayName
        self.unit = unit
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.groups = groups
        self.createdAt = createdAt
        self.cards = cards
        self.pin = pin
    }
}

/// A card as the hub has it: the site-keyed tag (`SiteKeys.cardTag`) and the display digits.
public struct ReplicaCard: Sendable, Hashable {
    public var tag: Data
    public var last4: String
    public init(tag: Data, last4: String) {
        self.tag = tag
        self.last4 = last4
    }
}

public struct ReplicaPIN: Sendable, Hashable {
    public var lookupTag: Data?
    public var hash: String
    public init(lookupTag: Data?, hash: String) {
        self.lookupTag = lookupTag
        self.hash = hash
    }
}

public struct ReplicaErasure: Sendable, Hashable {
    public var seq: Int64
    public var residentID: String
    public init(seq: Int64, residentID: String) {
        self.seq = seq
        self.residentID = residentID
    }
}

public struct ReplicaConsent: Sendable, Hashable {
    public var hubID: Int64
    public var changeSeq: Int64
    public var residentID: String
    public var action: String
    public var time: WallTime
    public var noticeVersion: String
    public var noticeSHA256: String
    public var language: String
    public var method: String
    public var `operator`: String
    public var scope: [String]

    public init(hubID: Int64, changeSeq: Int64, residentID: String, action: String, time: WallTime, noticeVersion: String,
                noticeSHA256: String, language: String, method: String, operator: String, scope: [String]) {
        self.hubID = hubID
        self.changeSeq = changeSeq
        self.residentID = residentID
        self.action = action
        self.time = time
        self.noticeVersion = noticeVersion
        self.noticeSHA256 = noticeSHA256
        self.language = language
        self.method = method
        self.operator = `operator`
        self.scope = scope
    }
}

/// A withdrawal or erasure applied locally: the change it came from and the templates it deleted, for the
/// deletion receipt the gate writes back to the hub.
public struct ReplicaDeletion: Sendable, Hashable {
    public var changeSeq: Int64
    public var templatesDeleted: Int
}

/// A local access decision or alarm, as pushed to the hub (its audit seq is the local sequence) and as the hub
/// lists it (`HubEvent`).
public struct LocalEvent: Sendable, Hashable {
    public var seq: Int64
    public var time: WallTime
    public var category: String
    public var action: String?
    public var door: String?
    public var method: String?
    public var result: String?
    public var reason: String?
    public var residentID: String?

    public init(seq: Int64, time: WallTime, category: String, action: String?, door: String?, method: String?, result: String?,
                reason: String?, residentID: String?) {
        self.seq = seq
        self.time = time
        self.category = category
        self.action = action
        self.door = door
        self.method = method
        self.result = result
        self.reason = reason
        self.residentID = residentID
    }
}

/// The fleet-v1 migration's table: where this gate's replica stands.
enum FleetSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE fleetSync (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                appliedSeq INTEGER NOT NULL,
                appliedAt INTEGER NOT NULL
            ) STRICT;
            """)
    }

    /// fleet-v2-fleethub: deletion receipts not yet acknowledged by the hub. A row is written in the batch's own
    /// transaction, so a gate killed after the commit still owes the receipt, and is deleted only once the hub
    /// has it (the hub's insert is idempotent by gate and change).
    static func createReceiptOutbox(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE fleetReceiptOutbox (
                changeSeq INTEGER PRIMARY KEY,
                templatesDeleted INTEGER NOT NULL CHECK (templatesDeleted >= 0),
                createdAt INTEGER NOT NULL
            ) STRICT;
            """)
    }
}

extension GateDatabase {
    /// The hub sequence this replica has applied (0 before the first batch).
    public func fleetAppliedSeq() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT appliedSeq FROM fleetSync WHERE id = 1") ?? 0 }
    }

    /// When the last batch was applied, if ever.
    public func fleetAppliedAt() throws -> WallTime? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT appliedAt FROM fleetSync WHERE id = 1").map(WallTime.init(millisecondsSince1970:))
        }
    }

    /// Applies one batch in ONE transaction together with its sequence: either the whole batch and the new
    /// sequence commit, or nothing does, so a gate killed mid-batch pulls the same batch again. Erasures and
    /// withdrawals delete the resident's local face templates in that same transaction.
    /// - Returns: the deletions, for the receipts the gate writes back.
    @discardableResult
    public func applyReplica(_ batch: ReplicaBatch) throws -> [ReplicaDeletion] {
        try write { db in
            let applied = try Int64.fetchOne(db, sql: "SELECT appliedSeq FROM fleetSync WHERE id = 1") ?? 0
            // A batch already applied (a retry after a lost acknowledgement) changes nothing.
            guard batch.lastSeq > applied else { return [] }
            return try applyReplicaRows(batch, in: db)
        }
    }

    /// The body of `applyReplica` inside the caller's transaction, without its sequence check (`replaceReplica`
    /// applies a full snapshot with it too).
    func applyReplicaRows(_ batch: ReplicaBatch, in db: Database) throws -> [ReplicaDeletion] {
        var deletions: [ReplicaDeletion] = []
        // Revocations first: every changed resident's cards and PIN go before any is written back.
        for resident in batch.residents {
            try db.execute(sql: "DELETE FROM card WHERE residentId = ?", arguments: [resident.id])
            try db.execute(sql: "DELETE FROM pin WHERE residentId = ?", arguments: [resident.id])
        }
        for erasure in batch.erased {
            if let deleted = try eraseReplicated(erasure.residentID, in: db) {
                deletions.append(ReplicaDeletion(changeSeq: erasure.seq, templatesDeleted: deleted))
            }
        }
        let time = now().millisecondsSince1970
        for resident in batch.residents {
            try db.execute(
                sql: """
                    INSERT INTO resident (id, displayName, unit, validUntil, validFrom, createdAt) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET displayName = excluded.displayName, unit = excluded.unit,
                        validUntil = excluded.validUntil, validFrom = excluded.validFrom
                    """,
                arguments: [resident.id, resident.displayName, resident.unit, resident.validUntil?.millisecondsSince1970,
                            resident.validFrom?.millisecondsSince1970, resident.createdAt.millisecondsSince1970])
            for card in resident.cards {
                try db.execute(sql: "INSERT INTO card (residentId, uidTag, uidLast4, createdAt) VALUES (?, ?, ?, ?)",
                               arguments: [resident.id, card.tag, card.last4, time])
            }
            if let pin = resident.pin {
                try db.execute(sql: "INSERT INTO pin (residentId, lookupTag, hash, createdAt) VALUES (?, ?, ?, ?)",
                               arguments: [resident.id, pin.lookupTag, pin.hash, time])
            }
        }
        for consent in batch.consents {
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM resident WHERE id = ?)", arguments: [consent.residentID]) == true
            else { continue }
            var deleted = 0
            if consent.action == "withdraw" {
                deleted = try Int.fetchOne(db, sql: "SELECT count(*) FROM faceTemplate WHERE residentId = ?", arguments: [consent.residentID]) ?? 0
                try db.execute(sql: "DELETE FROM faceTemplate WHERE residentId = ?", arguments: [consent.residentID])
                deletions.append(ReplicaDeletion(changeSeq: consent.changeSeq, templatesDeleted: deleted))
            }
            try db.execute(
                sql: """
                    INSERT INTO consent (residentId, action, time, noticeVersion, noticeSHA256, language, method, operator, scope, device)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [consent.residentID, consent.action, consent.time.millisecondsSince1970, consent.noticeVersion,
                            consent.noticeSHA256, consent.language, consent.method, consent.operator,
                            consent.scope.joined(separator: ","), "hub"])
        }
        try applyVisitorPasses(batch.visitorPasses, in: db)
        // The receipts are owed from this commit on: the outbox row commits with the deletion it acknowledges.
        for deletion in deletions {
            try db.execute(sql: "INSERT OR IGNORE INTO fleetReceiptOutbox (changeSeq, templatesDeleted, createdAt) VALUES (?, ?, ?)",
                           arguments: [deletion.changeSeq, deletion.templatesDeleted, time])
        }
        try db.execute(
            sql: """
                INSERT INTO fleetSync (id, appliedSeq, appliedAt) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET appliedSeq = excluded.appliedSeq, appliedAt = excluded.appliedAt
                """,
            arguments: [batch.lastSeq, time])
        return deletions
    }

    /// Erases a resident named by the hub inside the caller's transaction, as `eraseResident` does on a single
    /// box (entries naming them blanked, one tombstone). - Returns: templates deleted; `nil` if unknown here.
    func eraseReplicated(_ id: String, in db: Database) throws -> Int? {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM resident WHERE id = ?)", arguments: [id]) == true else { return nil }
        let templates = try Int.fetchOne(db, sql: "SELECT count(*) FROM faceTemplate WHERE residentId = ?", arguments: [id]) ?? 0
        let tombstone = try AuditChain.nextSeq(in: db, headKey: keys.auditHead)
        let seqs = try Int64.fetchAll(db, sql: "SELECT seq FROM auditEntry WHERE residentId = ? AND redactedBy IS NULL ORDER BY seq", arguments: [id])
        var detail = try AuditChain.redact(seqs, by: tombstone, in: db)
        try db.execute(sql: "INSERT INTO pendingErasure (residentId) VALUES (?)", arguments: [id])
        try db.execute(sql: "DELETE FROM resident WHERE id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM pendingErasure WHERE residentId = ?", arguments: [id])
        detail["receipt"] = keys.erasureToken(for: id)
        detail["source"] = "hub"
        try audit(AuditRecord(time: now(), category: .admin, action: .residentErase, operator: "hub", detail: detail), in: db)
        return templates
    }

    /// Deletion receipts the hub has not acknowledged yet, oldest change first.
    public func pendingDeletionReceipts() throws -> [ReplicaDeletion] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT changeSeq, templatesDeleted FROM fleetReceiptOutbox ORDER BY changeSeq").map {
                ReplicaDeletion(changeSeq: $0["changeSeq"], templatesDeleted: $0["templatesDeleted"])
            }
        }
    }

    /// The hub has the receipt for change `changeSeq`: it leaves the outbox.
    public func deletionReceiptDelivered(changeSeq: Int64) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM fleetReceiptOutbox WHERE changeSeq = ?", arguments: [changeSeq])
        }
    }

    /// Access decisions and alarms after local sequence `seq`, oldest first, for the push to the hub.
    public func localEvents(after seq: Int64, limit: Int = 1000) throws -> [LocalEvent] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, time, category, action, door, method, result, reason, residentId FROM auditEntry
                WHERE seq > ? AND category IN ('access', 'alarm') AND redactedBy IS NULL ORDER BY seq LIMIT ?
                """, arguments: [seq, limit]).map { row in
                    LocalEvent(seq: row["seq"], time: WallTime(millisecondsSince1970: row["time"]), category: row["category"],
                               action: row["action"], door: row["door"], method: row["method"], result: row["result"],
                               reason: row["reason"], residentID: row["residentId"])
                }
        }
    }

    /// Lets card lookups also find cards enrolled at the fleet hub, whose tags are keyed with the site's
    /// secret (`SiteKeys`) rather than this box's device key.
    public func useSiteKeys(_ keys: SiteKeys) {
        siteKeys.withLock { $0 = keys }
    }

    /// The site-keyed tag of `uid`, when this store replicates a fleet site.
    func siteCardTag(of uid: CardUID) -> Data? {
        siteKeys.withLock { $0 }?.cardTag(of: uid)
    }

    /// The site-keyed lookup tag of a PIN typed alone, when this store replicates a fleet site.
    func sitePinLookupTag(of pin: PIN) -> Data? {
        siteKeys.withLock { $0 }?.pinLookupTag(of: pin)
    }
}
