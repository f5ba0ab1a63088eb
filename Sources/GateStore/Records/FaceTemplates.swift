import Foundation
import GRDB
import GateCore

/// A decrypted template, held only in memory by the matcher.
public struct FaceTemplate: Sendable {
    public var id: String
    public var residentID: String
    public var embedder: String
    public var embedding: [Float]
}

extension GateDatabase {
    public static let maximumTemplatesPerResident = 5

    /// Stores an encrypted face template tied to the resident's active consent.
    ///
    /// - Throws: `GateStoreError.noActiveConsent` without an active grant. The schema enforces the same
    ///   rule with a trigger, so no code path can store a template without consent.
    @discardableResult
    public func storeFaceTemplate(residentID: String, embedder: String, embedding: [Float], operator op: String) throws -> String {
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
            try audit(AuditRecord(time: now(), category: .admin, action: "face.enroll", residentID: residentID, operator: op,
                                  detail: ["template": templateID, "embedder": embedder]), in: db)
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
            try audit(AuditRecord(time: now(), category: .admin, action: "face.delete", residentID: residentID, operator: op,
                                  detail: ["templatesDeleted": String(deleted)]), in: db)
            return deleted
        }
        try purgeWriteAheadLog()
        return deleted
    }

    /// Decrypts every template whose consent is still in force, for the in-memory matcher.
    public func activeFaceTemplates() throws -> [FaceTemplate] {
        let rows = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.id, t.residentId, t.embedder, t.sealed FROM faceTemplate t
                WHERE t.consentId = (SELECT max(id) FROM consent c WHERE c.residentId = t.residentId)
                """)
        }
        return try rows.map { row in
            let id: String = row["id"]
            let residentID: String = row["residentId"]
            let embedder: String = row["embedder"]
            let embedding = try keys.open(row["sealed"], templateID: id, residentID: residentID, embedder: embedder)
            return FaceTemplate(id: id, residentID: residentID, embedder: embedder, embedding: embedding)
        }
    }
}
