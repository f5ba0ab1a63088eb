import Foundation
import GRDB
public import GateCore

/// Duress PINs and anti-passback presence: the gate machine's credentials and state beyond cards and PINs.
extension GateDatabase {
    /// Sets or replaces a resident's duress PIN: at the keypad it opens exactly like the resident's PIN and
    /// raises a silent `duress` alarm. Stored like a PIN (slow salted hash, and the keyed lookup tag PIN-only
    /// keypads need), in its own table; it must differ from the resident's PIN.
    /// - Throws: `GateStoreError.invalidPIN` when the PIN is weak or equals the resident's PIN.
    public func setDuressPIN(residentID: String, pin: PIN, strength: PinStrength = PinStrength(), lookupTag: Bool = true,
                             operator op: String) throws {
        let found = try read { db in
            try Row.fetchOne(db, sql: "SELECT r.unit, p.hash FROM resident r LEFT JOIN pin p ON p.residentId = r.id WHERE r.id = ?",
                             arguments: [residentID])
        }
        guard let found else { throw GateStoreError.residentNotFound(residentID) }
        let unit: String = found["unit"]
        if let weakness = strength.weakness(of: pin, unitCode: KeypadUnit.code(of: unit)) { throw GateStoreError.invalidPIN(weakness) }
        if let hash: String = found["hash"], PinHash.verify(pin, against: hash) {
            throw GateStoreError.invalidPIN("a duress PIN must differ from the resident's PIN")
        }
        try store(pin, as: .duress, of: residentID, lookupTag: lookupTag, operator: op)
    }

    /// The resident whose duress PIN `pin` is (typed alone, or after `unitCode`); `nil` when nobody's, or
    /// when several residents share it.
    public func duressHolder(ofPIN pin: PIN, unitCode: String?) throws -> CredentialHolder? {
        let holders = try holders(of: pin, kind: .duress, unitCode: unitCode)
        return holders.count == 1 ? holders[0] : nil
    }

    /// Who is inside which anti-passback area, and since when.
    public func presence() throws -> [PresenceKey: WallTime] {
        try read { db in
            var presence: [PresenceKey: WallTime] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT residentId, area, enteredAt FROM presence") {
                presence[PresenceKey(residentID: row["residentId"], area: row["area"])] = WallTime(millisecondsSince1970: row["enteredAt"])
            }
            return presence
        }
    }

    /// Stores presence changes (one transaction); `nil` removes the entry.
    public func savePresence(_ changes: [PresenceKey: WallTime?]) throws {
        try write { db in
            for (key, entered) in changes {
                if let entered {
                    try db.execute(
                        sql: """
                            INSERT INTO presence (residentId, area, enteredAt) VALUES (?, ?, ?)
                            ON CONFLICT(residentId, area) DO UPDATE SET enteredAt = excluded.enteredAt
                            """,
                        arguments: [key.residentID, key.area, entered.millisecondsSince1970])
                } else {
                    try db.execute(sql: "DELETE FROM presence WHERE residentId = ? AND area = ?", arguments: [key.residentID, key.area])
                }
            }
        }
    }
}

extension Migrations {
    /// The gate machine's tables: one migration each, appended after every earlier one.
    static func registerMachine(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("machine-duress-pin") { db in
            try db.execute(sql: """
                CREATE TABLE duressPin (
                    residentId TEXT PRIMARY KEY NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    lookupTag BLOB,
                    hash TEXT NOT NULL,
                    createdAt INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX duressPin_lookup ON duressPin(lookupTag);
                """)
        }
        migrator.registerMigration("machine-presence") { db in
            try db.execute(sql: """
                CREATE TABLE presence (
                    residentId TEXT NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    area TEXT NOT NULL,
                    enteredAt INTEGER NOT NULL,
                    PRIMARY KEY (residentId, area)
                ) STRICT;
                """)
        }
    }
}
