import Foundation
import GRDB
public import GateCore

/// Everything the device holds about one resident (R16), in display form: no template bytes, no
/// hashes, no full card UIDs.
public struct ResidentExport: Sendable, Codable {
    public struct Profile: Sendable, Codable {
        public var id: String
        public var displayName: String
        public var unit: String
        public var validUntil: WallTime?
        public var createdAt: WallTime
    }

    public struct Credentials: Sendable, Codable {
        /// Last four hex digits of each card.
        public var cards: [String]
        public var pinSet: Bool
    }

    public struct TemplateMetadata: Sendable, Codable {
        public var id: String
        public var embedder: String
        public var dimension: Int
        public var createdAt: WallTime
        public var consentID: Int64
    }

    public var exportedAt: WallTime
    public var profile: Profile
    public var consentHistory: [ConsentRecord]
    public var credentials: Credentials
    public var faceTemplates: [TemplateMetadata]
    public var accessEvents: [EventEntry]
    /// Admin actions concerning the resident (who changed what, when).
    public var adminActions: [AuditEntry]
}


extension GateDatabase {
    public func export(residentID: String) throws -> ResidentExport {
        let resident = try resident(residentID)
        let (templates, admin) = try read { db in
            let templates = try Row.fetchAll(db, sql: "SELECT id, embedder, dimension, createdAt, consentId FROM faceTemplate WHERE residentId = ? ORDER BY createdAt", arguments: [residentID]).map {
                ResidentExport.TemplateMetadata(id: $0["id"], embedder: $0["embedder"], dimension: $0["dimension"],
                                                createdAt: WallTime(millisecondsSince1970: $0["createdAt"]), consentID: $0["consentId"])
            }
            let admin = try Row.fetchAll(db, sql: "SELECT * FROM auditEntry WHERE residentId = ? AND category = 'admin' ORDER BY seq", arguments: [residentID]).map { row in
                AuditEntry(seq: row["seq"], time: WallTime(millisecondsSince1970: row["time"]), category: row["category"],
                           action: row["action"], residentID: row["residentId"], operator: row["operator"],
                           detail: row["detail"], redactedBy: nil)
            }
            return (templates, admin)
        }
        return ResidentExport(
            exportedAt: now(),
            profile: .init(id: resident.id, displayName: resident.displayName, unit: resident.unit,
                           validUntil: resident.validUntil, createdAt: resident.createdAt),
            consentHistory: try consentHistory(residentID: residentID),
            credentials: .init(cards: resident.cards, pinSet: resident.hasPIN),
            faceTemplates: templates,
            accessEvents: try events(residentID: residentID),
            adminActions: admin
        )
    }
}
