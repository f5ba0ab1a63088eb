import Foundation
import GRDB
public import GateCore

/// A decrypted template, held only in memory by the matcher.
public struct FaceTemplate: Sendable {
    public var id: String
    public var residentID: String
    public var embedder: String
    public var embedding: [Float]
    /// The doors the resident's consent in force covers: the template is matched only there.
    public var scope: ConsentScope
}

extension GateDatabase {
    public static let maximumTemplatesPerResident = 5

    /// Stores an encrypted face template tied to the resident's active consent. `source` says how the face
    /// was taken (photos, or the camera after the resident's own credential) and goes to the audit entry.
    ///
    /// - Throws: `GateStoreError.noActiveConsent` without an active grant. The schema enforces the same
    ///   rule with a trigger, so no code path can store a template without consent.
    @discardableResult
    public func storeFaceTemplate(residentID: String, embedder: String, embedding: [Float], operator op: String,
                                  source: String? = nil) throws -> String {
        let templateID = "t" + (0..<8).map { _ in UInt8.random(in: 0...255) }.hex
        return try write { db in
            try requireResident(residentID, in: db)
            guard let consentID = try activeConsentID(for: residentID, in: db) else {
                throw GateStoreError.noActiveConsent(residentID: residentID)
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM faceTemplate WHERE residentId = ?", arguments: [residentID]) ?? 0
            guard count < Self.maximumTemplatesPerResident else {
                throw GateStoreError.tooManyTemplates(residentID: residentID, limit: Self.maximumTemplatesPerResident)
            }
            let sealed = try keys.seal(embedding, templateID: templateID, residentID: residentID, embedder: embedder)
            try insertTemplate(id: templateID, residentID: residentID, consentID: consentID, embedder: embedder,
                               dimension: embedding.count, sealed: sealed, in: db)
            var detail = ["template": templateID, "embedder": embedder]
            detail["source"] = source
            try audit(AuditRecord(time: now(), category: .admin, action: .faceEnroll, residentID: residentID, operator: op,
                                  detail: detail), in: db)
            return templateID
        }
    }

    func insertTemplate(id: String, residentID: String, consentID: Int64, embedder: String, dimension: Int, sealed: Data, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO faceTemplate (id, residentId, consentId, embedder, dimension, sealed, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [id, residentID, consentID, embedder, dimension, sealed, now().millisecondsSince1970]
        )
    }

    /// Deletes a resident's templates without touching the consent ledger.
    public func deleteFaceTemplates(residentID: String, operator op: String) throws -> Int {
        let deleted = try write { db -> Int in
            try requireResident(residentID, in: db)
            try db.execute(sql: "DELETE FROM faceTemplate WHERE residentId = ?", arguments: [residentID])
            let deleted = db.changesCount
            try audit(AuditRecord(time: now(), category: .admin, action: .faceDelete, residentID: residentID, operator: op,
                                  detail: ["templatesDeleted": String(deleted)]), in: db)
            return deleted
        }
        try purgeWriteAheadLog()
        return deleted
    }

    /// Changes whenever the set of usable templates may have changed.
    public func faceIndexVersion() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT version FROM faceIndexVersion WHERE id = 1") ?? 0 }
    }

    /// The holder behind a face match at `door`, re-checked at decision time: `holder` is `nil` unless the
    /// resident still exists and still has an active consent (a withdrawal between two index refreshes
    /// wins); `inScope` is `false` when that consent does not cover `door` (a scope change wins the same way).
    public func faceHolder(residentID: String, door: String) throws -> (holder: CredentialHolder?, inScope: Bool) {
        try read { db in
            guard let consentID = try activeConsentID(for: residentID, in: db),
                  let scope = try String.fetchOne(db, sql: "SELECT scope FROM consent WHERE id = ?", arguments: [consentID])
            else { return (nil, true) }
            guard ConsentScope(scope).covers(door: door) else { return (nil, false) }
            let holder = try Row.fetchOne(db, sql: "SELECT \(Self.holderColumns) FROM resident r WHERE r.id = ?", arguments: [residentID])
                .map(CredentialHolder.init(row:))
            return (holder, true)
        }
    }

    /// Templates made by embedders other than `embedder`: they cannot be compared and need re-enrolment.
    public func templatesNeedingReenrolment(currentEmbedder embedder: String) throws -> [String: Int] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT embedder, count(*) AS n FROM faceTemplate WHERE embedder != ? GROUP BY embedder",
                                        arguments: [embedder])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["embedder"] as String, $0["n"] as Int) })
        }
    }

    /// Decrypts every template whose consent is still in force, with that consent's scope, for the
    /// in-memory matcher.
    public func activeFaceTemplates() throws -> [FaceTemplate] {
        let rows = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.id, t.residentId, t.embedder, t.sealed, c.scope FROM faceTemplate t
                JOIN consent c ON c.id = t.consentId AND c.action = 'grant'
                WHERE t.consentId = (SELECT max(id) FROM consent c2 WHERE c2.residentId = t.residentId)
                """)
        }
        return try rows.map { row in
            let id: String = row["id"]
            let residentID: String = row["residentId"]
            let embedder: String = row["embedder"]
            let embedding = try keys.open(row["sealed"], templateID: id, residentID: residentID, embedder: embedder)
            return FaceTemplate(id: id, residentID: residentID, embedder: embedder, embedding: embedding,
                                scope: ConsentScope(row["scope"] as String))
        }
    }
}

extension GateDatabase {
    /// Benchmark fixture: `count` residents, each with consent and one template of random numbers, in
    /// one transaction. Not product API: nothing but `optgate-bench` imports this SPI.
    @_spi(Benchmark)
    public func seedForBenchmark(count: Int, embedder: String, dimension: Int) throws {
        let notice = (version: "bench", sha256: String(repeating: "0", count: 64), language: "en")
        try write { db in
            var generator = SystemRandomNumberGenerator()
            for index in 0..<count {
                let id = "rbench\(index)"
                try db.execute(sql: "INSERT INTO resident (id, displayName, unit, createdAt) VALUES (?, ?, 'bench', 0)",
                               arguments: [id, "Bench \(index)"])
                try db.execute(
                    sql: """
                        INSERT INTO consent (residentId, action, time, noticeVersion, noticeSHA256, language, method, operator, scope, device)
                        VALUES (?, 'grant', 0, ?, ?, ?, 'console', 'bench', '*', 'bench')
                        """,
                    arguments: [id, notice.version, notice.sha256, notice.language])
                let embedding = (0..<dimension).map { _ in Float.random(in: -0.2...0.2, using: &generator) }
                let templateID = "tbench\(index)"
                let sealed = try keys.seal(embedding, templateID: templateID, residentID: id, embedder: embedder)
                try insertTemplate(id: templateID, residentID: id, consentID: db.lastInsertedRowID, embedder: embedder,
                                   dimension: dimension, sealed: sealed, in: db)
            }
        }
    }
}
