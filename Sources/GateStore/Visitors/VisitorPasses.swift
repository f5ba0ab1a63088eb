import Foundation
import GRDB
public import GateCore

/// The schema of migration `visitor-v1`.
enum VisitorPassSchema {
    static func create(in db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE visitorPass (
                id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 13 AND id GLOB 'v[0-9a-f]*'),
                name TEXT,
                codeTag BLOB NOT NULL UNIQUE,
                validFrom INTEGER NOT NULL,
                validUntil INTEGER NOT NULL CHECK (validUntil > validFrom),
                usesTotal INTEGER NOT NULL CHECK (usesTotal BETWEEN 1 AND 1000),
                usesLeft INTEGER NOT NULL CHECK (usesLeft BETWEEN 0 AND usesTotal),
                revokedAt INTEGER,
                createdAt INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE visitorPassDoor (
                passId TEXT NOT NULL REFERENCES visitorPass(id) ON DELETE CASCADE,
                door TEXT NOT NULL,
                PRIMARY KEY (passId, door)
            ) STRICT;
            -- A revoked pass stays revoked; a pass's uses only go down.
            CREATE TRIGGER visitorPass_monotonic BEFORE UPDATE ON visitorPass
            WHEN (OLD.revokedAt IS NOT NULL AND NEW.revokedAt IS NOT OLD.revokedAt) OR NEW.usesLeft > OLD.usesLeft
                OR NEW.codeTag IS NOT OLD.codeTag OR NEW.validUntil IS NOT OLD.validUntil OR NEW.validFrom IS NOT OLD.validFrom
            BEGIN SELECT RAISE(ABORT, 'a visitor pass is only used up or revoked, never changed otherwise'); END;
            """)
    }
}

/// A pass just issued: the only moment its keypad code exists outside the visitor's hands.
public struct IssuedVisitorPass: Sendable, Hashable {
    public var pass: VisitorPass
    /// The one-off keypad code (`VisitorKeypad.codeDigits` digits); stored only as a keyed tag.
    public var code: String
    /// The signed text for the QR code (`VisitorQR`).
    public var qr: String
}

/// Refusals of the visitor-pass commands, phrased for the manager.
public enum VisitorPassError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case alreadyRevoked(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notFound(let id): "No visitor pass has the id \(id)."
        case .alreadyRevoked(let id): "The visitor pass \(id) is already revoked."
        case .invalid(let reason): "The visitor pass was refused: \(reason)."
        }
    }
}

extension GateDatabase {
    /// The longest validity a pass may have.
    public static let maximumVisitorValidity: Duration = .seconds(90 * 86_400)

    /// Issues a pass for `doors`, valid from now for `validFor`, for `uses` entries, and records
    /// `visitor.issue` (without the code, the name or the QR text) in the same transaction.
    public func issueVisitorPass(doors: [String], validFor: Duration, uses: Int, name: String?, operator op: String) throws -> IssuedVisitorPass {
        let doors = Array(Set(doors)).sorted()
        guard !doors.isEmpty else { throw VisitorPassError.invalid("name at least one door") }
        guard (1...1000).contains(uses) else { throw VisitorPassError.invalid("uses must be 1 to 1000") }
        guard validFor > .zero, validFor <= Self.maximumVisitorValidity else {
            throw VisitorPassError.invalid("the validity must be more than 0 and at most 90 days")
        }
        let start = now()
        let until = start.advanced(by: validFor)
        for _ in 0..<8 {
            let id = VisitorPassID.make()
            let code = VisitorCode.make()
            let tag = keys.visitorCodeTag(PIN(code)!)
            let pinTag = keys.lookupTag(of: PIN(code)!)
            let pass = VisitorPass(id: id, name: name, doors: doors, validFrom: start, validUntil: until, usesTotal: uses, usesLeft: uses)
            let inserted: Bool = try write { db in
                // A code (or id) already in use is drawn again: a visitor's code must find one pass. So is a code
                // that is a resident's PIN on a PIN-only keypad (same keyed lookup tag), silently: nothing is said.
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM visitorPass WHERE codeTag = ? OR id = ?)",
                                     arguments: [tag, id]) == true
                    || Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pin WHERE lookupTag = ?)", arguments: [pinTag]) == true {
                    return false
                }
                try db.execute(sql: """
                    INSERT INTO visitorPass (id, name, codeTag, validFrom, validUntil, usesTotal, usesLeft, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, name, tag, start.millisecondsSince1970, until.millisecondsSince1970, uses, uses,
                                     start.millisecondsSince1970])
                for door in doors {
                    try db.execute(sql: "INSERT INTO visitorPassDoor (passId, door) VALUES (?, ?)", arguments: [id, door])
                }
                try audit(AuditRecord(time: start, category: .admin, action: .visitorIssue, operator: op,
                                      detail: ["pass": id, "doors": doors.joined(separator: ","), "uses": String(uses),
                                               "validUntilMs": String(until.millisecondsSince1970)]), in: db)
                return true
            }
            if inserted {
                return IssuedVisitorPass(pass: pass, code: code, qr: keys.visitorQRText(VisitorQR(passID: id, expires: until)))
            }
        }
        throw VisitorPassError.invalid("no unused code could be drawn; try again")
    }

    /// Revokes a pass at once: its code and QR stop opening at the next presentation.
    public func revokeVisitorPass(id: String, operator op: String) throws {
        try write { db in
            let revoked = try Row.fetchOne(db, sql: "SELECT revokedAt FROM visitorPass WHERE id = ?", arguments: [id])
            guard let revoked else { throw VisitorPassError.notFound(id) }
            guard revoked["revokedAt"] as Int64? == nil else { throw VisitorPassError.alreadyRevoked(id) }
            try db.execute(sql: "UPDATE visitorPass SET revokedAt = ? WHERE id = ?", arguments: [now().millisecondsSince1970, id])
            try audit(AuditRecord(time: now(), category: .admin, action: .visitorRevoke, operator: op, detail: ["pass": id]), in: db)
        }
    }

    /// Deletes the passes that ended (expired or revoked) more than `days` ago: their visitors' names and code
    /// tags are kept no longer than the access events about them (R9, R20). One transaction, one
    /// `visitor.purge` entry with the count and never a name; the write-ahead log is purged after.
    /// - Returns: how many passes were deleted.
    @discardableResult
    public func purgeVisitorPasses(endedMoreThanDays days: Int, operator op: String) throws -> Int {
        let cutoff = now().adding(days: -days)
        let count = try write { db -> Int in
            try db.execute(sql: "DELETE FROM visitorPass WHERE MIN(validUntil, COALESCE(revokedAt, validUntil)) < ?",
                           arguments: [cutoff.millisecondsSince1970])
            let deleted = db.changesCount
            guard deleted > 0 else { return 0 }
            try audit(AuditRecord(time: now(), category: .admin, action: .visitorPurge, operator: op,
                                  detail: ["passes": String(deleted), "endedMoreThanDays": String(days)]), in: db)
            return deleted
        }
        if count > 0 { try purgeWriteAheadLog() }
        return count
    }

    /// Every pass, newest first. No code: the store has none to show.
    public func visitorPasses() throws -> [VisitorPass] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM visitorPass ORDER BY createdAt DESC, id").map { try visitorPass(from: $0, in: db) }
        }
    }

    /// A visitor typed `code` at `door`: spends one use when the pass opens there now.
    /// - Returns: `nil` when no pass has this code.
    public func consumeVisitorPass(code: PIN, door: String) throws -> VisitorPassDecision? {
        let tag = keys.visitorCodeTag(code)
        // A fleet gate also finds the passes issued at the hub, whose codes are keyed with the site's secret.
        let siteTag = siteVisitorCodeTag(of: code)
        return try consume(door: door) { db in
            try Row.fetchOne(db, sql: "SELECT * FROM visitorPass WHERE codeTag = ?", arguments: [tag])
                ?? siteTag.flatMap { try Row.fetchOne(db, sql: "SELECT * FROM visitorPass WHERE codeTag = ?", arguments: [$0]) }
        }
    }

    /// A visitor showed the QR text `payload` at `door`: verified under the site key, then as a keypad code.
    /// An edited payload, or one signed by another site, is nobody's (`passID` nil); an expired payload is
    /// refused as `expired` even if the pass would still be valid.
    public func consumeVisitorPass(qr payload: String, door: String) throws -> VisitorPassDecision {
        // Signed by this box, or (on a fleet gate) by the hub under the site's key.
        var result = keys.verifyVisitorQR(payload)
        if case .failure = result, let site = verifySiteVisitorQR(payload) { result = site }
        guard case .success(let verified) = result else {
            return VisitorPassDecision(passID: nil, refusal: .unknownCard)
        }
        if verified.expires <= now() { return VisitorPassDecision(passID: verified.passID, refusal: .expired) }
        let decision = try consume(door: door) { db in
            try Row.fetchOne(db, sql: "SELECT * FROM visitorPass WHERE id = ?", arguments: [verified.passID])
        }
        return decision ?? VisitorPassDecision(passID: verified.passID, refusal: .unknownCard)
    }

    /// Check and decrement in one immediate transaction: of two gates racing for the last use, one wins.
    private func consume(door: String, find: (Database) throws -> Row?) throws -> VisitorPassDecision? {
        let wall = now()
        do {
            return try writer.writeWithoutTransaction { db -> VisitorPassDecision? in
                var decision: VisitorPassDecision?
                try db.inTransaction(.immediate) {
                    guard let row = try find(db) else { return .commit }
                    let pass = try visitorPass(from: row, in: db)
                    if let refusal = pass.refusal(at: door, wall: wall) {
                        decision = VisitorPassDecision(passID: pass.id, refusal: refusal)
                        return .commit
                    }
                    try db.execute(sql: "UPDATE visitorPass SET usesLeft = usesLeft - 1 WHERE id = ? AND usesLeft > 0 AND revokedAt IS NULL",
                                   arguments: [pass.id])
                    decision = VisitorPassDecision(passID: pass.id, refusal: db.changesCount == 1 ? nil : .passUsedUp)
                    return .commit
                }
                return decision
            }
        } catch let error as DatabaseError {
            throw GateStoreError.database(error.message ?? "\(error)")
        }
    }

    private func visitorPass(from row: Row, in db: Database) throws -> VisitorPass {
        let id: String = row["id"]
        let doors = try String.fetchAll(db, sql: "SELECT door FROM visitorPassDoor WHERE passId = ? ORDER BY door", arguments: [id])
        return VisitorPass(
            id: id, name: row["name"], doors: doors,
            validFrom: WallTime(millisecondsSince1970: row["validFrom"]), validUntil: WallTime(millisecondsSince1970: row["validUntil"]),
            usesTotal: row["usesTotal"], usesLeft: row["usesLeft"],
            revokedAt: (row["revokedAt"] as Int64?).map(WallTime.init(millisecondsSince1970:))
        )
    }
}

/// One-off keypad codes: uniformly random, `VisitorKeypad.codeDigits` digits.
public enum VisitorCode {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<VisitorKeypad.codeDigits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }
}
