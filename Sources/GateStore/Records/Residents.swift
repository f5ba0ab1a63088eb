import Foundation
import GRDB
public import GateCore

/// A resident as the admin sees them.
public struct Resident: Sendable, Hashable, Codable {
    public var id: String
    public var displayName: String
    public var unit: String
    public var validUntil: WallTime?
    public var createdAt: WallTime
    /// Display form only: the last four hex digits of each card.
    public var cards: [String]
    public var hasPIN: Bool
    public var faceTemplates: Int
    public var faceConsent: Bool
    /// Under 14 (R6): face consent needs a guardian's.
    public var under14: Bool = false
}

extension GateDatabase {
    /// Adds a resident. - Returns: the new random id (`r` and 12 hex digits).
    /// - Parameter under14: a child under 14 (R6): face consent for them needs a guardian's.
    public func addResident(name: String, unit: String, validUntil: WallTime?, under14: Bool = false, operator op: String) throws -> String {
        let id = "r" + (0..<6).map { _ in UInt8.random(in: 0...255) }.hex
        try write { db in
            try db.execute(
                sql: "INSERT INTO resident (id, displayName, unit, validUntil, createdAt, under14) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, name, unit, validUntil?.millisecondsSince1970, now().millisecondsSince1970, under14]
            )
            var detail = validUntil.map { ["validUntil": String($0.millisecondsSince1970)] } ?? [:]
            if under14 { detail["under14"] = "yes" }
            try audit(AuditRecord(time: now(), category: .admin, action: .residentAdd, residentID: id, operator: op,
                                  detail: detail), in: db)
        }
        return id
    }

    public func residents() throws -> [Resident] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM resident ORDER BY unit, displayName, id").map {
                try resident($0, in: db)
            }
        }
    }

    public func resident(_ id: String) throws -> Resident {
        try read { db in try resident(id, in: db) }
    }

    func resident(_ id: String, in db: Database) throws -> Resident {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM resident WHERE id = ?", arguments: [id]) else {
            throw GateStoreError.residentNotFound(id)
        }
        let validUntil: Int64? = row["validUntil"]
        return Resident(
            id: id,
            displayName: row["displayName"],
            unit: row["unit"],
            validUntil: validUntil.map(WallTime.init(millisecondsSince1970:)),
            createdAt: WallTime(millisecondsSince1970: row["createdAt"]),
            cards: try String.fetchAll(db, sql: "SELECT uidLast4 FROM card WHERE residentId = ? ORDER BY id", arguments: [id]),
            hasPIN: try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pin WHERE residentId = ?)", arguments: [id]) ?? false,
            faceTemplates: try Int.fetchOne(db, sql: "SELECT count(*) FROM faceTemplate WHERE residentId = ?", arguments: [id]) ?? 0,
            faceConsent: try activeConsentID(for: id, in: db) != nil,
            under14: (row["under14"] as Int?) == 1
        )
    }

    /// Erases a resident (R7, R16): their row, cards, PIN, consent records and templates are deleted,
    /// every audit entry that names them is blanked, and one tombstone entry without personal data
    /// records the erasure. - Returns: a deletion receipt the resident can keep.
    public func eraseResident(_ id: String, operator op: String) throws -> ErasureReceipt {
        let receipt = try write { db -> ErasureReceipt in
            try requireResident(id, in: db)
            let tombstone = try AuditChain.nextSeq(in: db, headKey: keys.auditHead)
            let seqs = try Int64.fetchAll(db, sql: "SELECT seq FROM auditEntry WHERE residentId = ? AND redactedBy IS NULL ORDER BY seq", arguments: [id])
            var detail = try AuditChain.redact(seqs, by: tombstone, in: db)
            try db.execute(sql: "INSERT INTO pendingErasure (residentId) VALUES (?)", arguments: [id])
            try db.execute(sql: "DELETE FROM resident WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM pendingErasure WHERE residentId = ?", arguments: [id])
            let token = keys.erasureToken(for: id)
            detail["receipt"] = token
            let time = now()
            try audit(AuditRecord(time: time, category: .admin, action: .residentErase, operator: op, detail: detail), in: db)
            return ErasureReceipt(auditSeq: tombstone, token: token, time: time, blankedEntries: seqs.count)
        }
        try purgeWriteAheadLog()
        return receipt
    }
}

/// Proof of an erasure: the audit seq of the tombstone and a keyed token of the erased id that only
/// this device can recompute, so the resident can later check that the tombstone is theirs.
public struct ErasureReceipt: Sendable, Hashable, Codable {
    public var auditSeq: Int64
    public var token: String
    public var time: WallTime
    public var blankedEntries: Int
}
