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
            try audit(AuditRecord(time: now(), category: .admin, action: .cardAdd, residentID: residentID, operator: op,
                                  detail: ["card": fingerprint.last4]), in: db)
        }
    }

    public func removeCard(residentID: String, uid: CardUID, operator op: String) throws {
        let fingerprint = keys.fingerprint(of: uid)
        try write { db in
            try requireResident(residentID, in: db)
            try db.execute(sql: "DELETE FROM card WHERE residentId = ? AND uidTag = ?", arguments: [residentID, fingerprint.tag])
            guard db.changesCount == 1 else { throw GateStoreError.cardNotFound(residentID: residentID, last4: fingerprint.last4) }
            try audit(AuditRecord(time: now(), category: .admin, action: .cardRemove, residentID: residentID, operator: op,
                                  detail: ["card": fingerprint.last4]), in: db)
        }
    }

    /// Sets or replaces a resident's PIN.
    ///
    /// PINs need not be unique, and whether another resident holds the same PIN is never looked at, so
    /// a refusal can only name a property of the PIN itself (`strength`, the resident's own unit code).
    /// - Parameter lookupTag: keep the keyed lookup tag that PIN-only keypads need; unit + PIN keypads
    ///   need none, and without it a stolen database and key cannot test PINs at HMAC speed.
    public func setPIN(residentID: String, pin: PIN, strength: PinStrength = PinStrength(), lookupTag: Bool = true,
                       operator op: String) throws {
        let unit = try read { db in
            try String.fetchOne(db, sql: "SELECT unit FROM resident WHERE id = ?", arguments: [residentID])
        }
        guard let unit else { throw GateStoreError.residentNotFound(residentID) }
        if let weakness = strength.weakness(of: pin, unitCode: KeypadUnit.code(of: unit)) { throw GateStoreError.invalidPIN(weakness) }
        try store(pin, as: .normal, of: residentID, lookupTag: lookupTag, operator: op)
    }

    /// Where a resident's PIN hash is kept: their PIN, or their duress PIN (which opens like it and raises a
    /// silent alarm). Both are stored and looked up the same way.
    enum PinKind {
        case normal, duress

        /// A constant table name, never input.
        var table: String { self == .normal ? "pin" : "duressPin" }
        var setAction: AuditAction { self == .normal ? .pinSet : .pinSetDuress }
    }

    /// Stores a PIN as a slow salted hash (and the keyed lookup tag PIN-only keypads need), replacing the
    /// resident's earlier one of that kind, with its audit entry in the same transaction.
    func store(_ pin: PIN, as kind: PinKind, of residentID: String, lookupTag: Bool, operator op: String) throws {
        let tag = lookupTag ? keys.lookupTag(of: pin) : nil
        let hash = try PinHash.make(pin)
        try write { db in
            try requireResident(residentID, in: db)
            try db.execute(
                sql: """
                    INSERT INTO \(kind.table) (residentId, lookupTag, hash, createdAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT(residentId) DO UPDATE SET lookupTag = excluded.lookupTag, hash = excluded.hash,
                        createdAt = excluded.createdAt
                    """,
                arguments: [residentID, tag, hash, now().millisecondsSince1970]
            )
            try audit(AuditRecord(time: now(), category: .admin, action: kind.setAction, residentID: residentID, operator: op), in: db)
        }
    }

    /// The residents whose PIN of `kind` is `pin`: typed alone, found by its keyed lookup tag; typed after
    /// `unitCode`, by the slow hashes of that unit's residents only. The slow hashes are checked outside any
    /// database read, and the holder's rules columns are read for the matches alone.
    func holders(of pin: PIN, kind: PinKind, unitCode: String?) throws -> [CredentialHolder] {
        let candidates: [(id: String, hash: String)] = try read { db in
            if let unitCode {
                return try Row.fetchAll(db, sql: "SELECT p.residentId, r.unit, p.hash FROM \(kind.table) p JOIN resident r ON r.id = p.residentId")
                    .filter { KeypadUnit.code(of: $0["unit"]) == unitCode }
                    .map { ($0["residentId"], $0["hash"]) }
            }
            // A fleet gate also finds the PINs its hub set, tagged with the site's key.
            let tag = keys.lookupTag(of: pin)
            return try Row.fetchAll(db, sql: "SELECT residentId, hash FROM \(kind.table) WHERE lookupTag IN (?, ?)",
                                    arguments: [tag, sitePinLookupTag(of: pin) ?? tag])
                .map { ($0["residentId"], $0["hash"]) }
        }
        // A unit with no PIN holders costs the same one slow hash as a household of one.
        if kind == .normal, unitCode != nil, candidates.isEmpty { _ = PinHash.verify(pin, against: PinHash.placeholder) }
        let matched = candidates.filter { PinHash.verify(pin, against: $0.hash) }.map(\.id)
        guard !matched.isEmpty else { return [] }
        return try read { db in
            try matched.compactMap { id in
                try Row.fetchOne(db, sql: "SELECT \(Self.holderColumns) FROM resident r WHERE r.id = ?", arguments: [id])
                    .map(CredentialHolder.init(row:))
            }
        }
    }

    public func clearPIN(residentID: String, operator op: String) throws {
        try write { db in
            try requireResident(residentID, in: db)
            try db.execute(sql: "DELETE FROM pin WHERE residentId = ?", arguments: [residentID])
            try audit(AuditRecord(time: now(), category: .admin, action: .pinClear, residentID: residentID, operator: op,
                                  detail: ["hadPIN": db.changesCount == 1 ? "yes" : "no"]), in: db)
        }
    }

    /// Finds the holder of a card. A removed card, or one never enrolled, has no holder.
    public func holder(ofCard uid: CardUID) throws -> CredentialHolder? {
        let tag = keys.fingerprint(of: uid).tag
        // A fleet gate also finds the cards its hub enrolled, tagged with the site's key.
        let siteTag = siteCardTag(of: uid) ?? tag
        return try read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.holderColumns) FROM card c JOIN resident r ON r.id = c.residentId WHERE c.uidTag IN (?, ?)",
                arguments: [tag, siteTag]
            ).map(CredentialHolder.init(row:))
        }
    }

    /// Finds the holder of a PIN typed alone (PIN-only keypads): a keyed lookup, confirmed by the slow
    /// salted hash of every resident the tag points at.
    public func holders(ofPIN pin: PIN) throws -> PinMatch {
        PinMatch(try holders(of: pin, kind: .normal, unitCode: nil))
    }

    /// The one resident holding `pin` (PIN-only lookup); `nil` when nobody or several residents hold it.
    public func holder(ofPIN pin: PIN) throws -> CredentialHolder? {
        if case .one(let holder) = try holders(ofPIN: pin) { return holder }
        return nil
    }

    /// Finds the holder of a PIN typed after a unit code (unit + PIN keypads): only the slow hashes of
    /// the residents whose unit is typed as `unitCode` are checked; no lookup tag is used.
    public func holders(ofPIN pin: PIN, unitCode: String) throws -> PinMatch {
        PinMatch(try holders(of: pin, kind: .normal, unitCode: unitCode))
    }

    /// Who holds PINs, for the guessing budget of `optgate config check`.
    public func pinCensus() throws -> PinCensus {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT r.unit, p.lookupTag IS NOT NULL AS tagged FROM pin p JOIN resident r ON r.id = p.residentId")
            var perUnit: [String: Int] = [:]
            var untypable = 0
            for row in rows {
                guard let code = KeypadUnit.code(of: row["unit"]) else { untypable += 1; continue }
                perUnit[code, default: 0] += 1
            }
            return PinCensus(holders: rows.count, withoutLookupTag: rows.filter { !($0["tagged"] as Bool) }.count,
                             largestUnit: perUnit.values.max() ?? 0, withoutUnitCode: untypable)
        }
    }

    /// The persisted wrong-PIN counters, by scope.
    public func pinGuessCounters() throws -> [GuessScope: GuessCounter] {
        try read { db in
            var counters: [GuessScope: GuessCounter] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT scope, state FROM pinGuessCounter") {
                guard let scope = try? JSONDecoder().decode(GuessScope.self, from: Data((row["scope"] as String).utf8)),
                      let counter = try? JSONDecoder().decode(GuessCounter.self, from: Data((row["state"] as String).utf8))
                else { continue }
                counters[scope] = counter
            }
            return counters
        }
    }

    /// Stores wrong-PIN counters (one durable transaction); an empty counter deletes its row.
    public func savePinGuessCounters(_ counters: [GuessScope: GuessCounter]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try write { db in
            for (scope, counter) in counters {
                let key = String(decoding: try encoder.encode(scope), as: UTF8.self)
                if counter.isEmpty {
                    try db.execute(sql: "DELETE FROM pinGuessCounter WHERE scope = ?", arguments: [key])
                } else {
                    try db.execute(
                        sql: "INSERT INTO pinGuessCounter (scope, state) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET state = excluded.state",
                        arguments: [key, String(decoding: try encoder.encode(counter), as: UTF8.self)]
                    )
                }
            }
        }
    }
}

/// Whose PIN a typed PIN is.
public enum PinMatch: Sendable, Hashable {
    case none
    case one(CredentialHolder)
    /// Several residents hold this PIN: nobody is let in on it (it would not say who came in).
    case ambiguous(count: Int)

    init(_ holders: [CredentialHolder]) {
        switch holders.count {
        case 0: self = .none
        case 1: self = .one(holders[0])
        default: self = .ambiguous(count: holders.count)
        }
    }
}

/// PIN holders as the guessing budget sees them.
public struct PinCensus: Sendable, Hashable {
    public var holders: Int
    /// PINs set for unit + PIN keypads only; a PIN-only keypad cannot find them.
    public var withoutLookupTag: Int
    /// The most PIN holders behind one keypad unit code: the best target of a unit + PIN guesser.
    public var largestUnit: Int
    /// Holders whose unit has no digits, who cannot use a unit + PIN keypad.
    public var withoutUnitCode: Int
}

extension CredentialHolder {
    init(row: Row) {
        let validFrom: Int64? = row["validFrom"]
        let validUntil: Int64? = row["validUntil"]
        let groups: String? = row["groups"]
        let hasFace: Bool? = row["hasFace"]
        self.init(residentID: row["id"], validFrom: validFrom.map(WallTime.init(millisecondsSince1970:)),
                  validUntil: validUntil.map(WallTime.init(millisecondsSince1970:)),
                  groups: groups.map { $0.split(separator: "\u{1F}").map(String.init) } ?? [], hasFace: hasFace ?? false)
    }
}
