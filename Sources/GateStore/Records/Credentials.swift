import Foundation
import GRDB
public import GateCore

extension GateDatabase {
    public func addCard(residentID: String, uid: CardUID, operator op: String) throws {
        let fingerprint = keys.fingerprint(of: uid)
        try write { db in
            try requireResident(residentID, in: db)
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM card WHERE uidTag = ?)", arguments: [fingerprint.tag]) == true {
                throw GateStoreError.cardAlreadyEnrolled(last4: fingerprint.last4)
            }
            try db.execute(
                sql: "INSERT INTO card (residentId, uidTag, uidLast4, createdAt) VALUES (?, ?, ?, ?)",
                arguments: [residentID, fingerprint.tag, fingerprint.last4, now().millisecondsSince1970]
            )
            try audit(AuditRecord(time: now(), category: .admin, action: "card.add", residentID: residentID, operator: op,
                                  detail: ["card": fingerprint.last4]), in: db)
        }
    }

    public func removeCard(residentID: String, uid: CardUID, operator op: String) throws {
        let fingerprint = keys.fingerprint(of: uid)
        try write { db in
            try requireResident(residentID, in: db)
            try db.execute(sql: "DELETE FROM card WHERE residentId = ? AND uidTag = ?", arguments: [residentID, fingerprint.tag])
            guard db.changesCount == 1 else { throw GateStoreError.cardNotFound(residentID: residentID, last4: fingerprint.last4) }
            try audit(AuditRecord(time: now(), category: .admin, action: "card.remove", residentID: residentID, operator: op,
                                  detail: ["card": fingerprint.last4]), in: db)
        }
    }

    /// Sets or replaces a resident's PIN. PINs are unique on a device (PIN-only entry must identify the
    /// resident); a PIN already in use is refused without saying whose it is.
    public func setPIN(residentID: String, pin: PIN, operator op: String) throws {
        if let weakness = PinStrength.weakness(of: pin) { throw GateStoreError.invalidPIN(weakness) }
        let tag = keys.lookupTag(of: pin)
        let hash = try PinHash.make(pin)
        try write { db in
            try requireResident(residentID, in: db)
            let owner = try String.fetchOne(db, sql: "SELECT residentId FROM pin WHERE lookupTag = ?", arguments: [tag])
            if let owner, owner != residentID { throw GateStoreError.pinUnavailable }
            try db.execute(
                sql: """
                    INSERT INTO pin (residentId, lookupTag, hash, createdAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT(residentId) DO UPDATE SET lookupTag = excluded.lookupTag, hash = excluded.hash,
                        createdAt = excluded.createdAt
                    """,
                arguments: [residentID, tag, hash, now().millisecondsSince1970]
            )
            try audit(AuditRecord(time: now(), category: .admin, action: "pin.set", residentID: residentID, operator: op), in: db)
        }
    }

    public func clearPIN(residentID: String, operator op: String) throws {
        try write { db in
            try requireResident(residentID, in: db)
            try db.execute(sql: "DELETE FROM pin WHERE residentId = ?", arguments: [residentID])
            try audit(AuditRecord(time: now(), category: .admin, action: "pin.clear", residentID: residentID, operator: op,
                                  detail: ["hadPIN": db.changesCount == 1 ? "yes" : "no"]), in: db)
        }
    }

    /// Finds the holder of a card. A removed card, or one never enrolled, has no holder.
    public func holder(ofCard uid: CardUID) throws -> CredentialHolder? {
        let tag = keys.fingerprint(of: uid).tag
        return try read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT r.id, r.validUntil FROM card c JOIN resident r ON r.id = c.residentId WHERE c.uidTag = ?",
                arguments: [tag]
            ).map(CredentialHolder.init(row:))
        }
    }

    /// Finds the holder of a PIN: a keyed lookup, confirmed by the slow salted hash.
    public func holder(ofPIN pin: PIN) throws -> CredentialHolder? {
        let tag = keys.lookupTag(of: pin)
        let found = try read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT r.id, r.validUntil, p.hash FROM pin p JOIN resident r ON r.id = p.residentId WHERE p.lookupTag = ?",
                arguments: [tag]
            ).map { (CredentialHolder(row: $0), $0["hash"] as String) }
        }
        guard let (holder, hash) = found, PinHash.verify(pin, against: hash) else { return nil }
        return holder
    }
}

extension CredentialHolder {
    init(row: Row) {
        let validUntil: Int64? = row["validUntil"]
        self.init(residentID: row["id"], validUntil: validUntil.map(WallTime.init(millisecondsSince1970:)))
    }
}

/// Refuses PINs that the first few guesses of anyone would find.
enum PinStrength {
    static func weakness(of pin: PIN) -> String? {
        let digits = pin.digits.compactMap(\.wholeNumberValue)
        guard (4...8).contains(digits.count) else { return "a PIN has 4 to 8 digits" }
        if Set(digits).count == 1 { return "all digits are the same" }
        let steps = Set(zip(digits, digits.dropFirst()).map { ($1 - $0 + 10) % 10 })
        if steps == [1] || steps == [9] { return "the digits form a sequence" }
        return nil
    }
}
