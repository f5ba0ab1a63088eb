import Crypto
public import Foundation
import GRDB
public import GateCore

/// What the store holds, as the impact assessment and the compliance report count it.
public struct ComplianceCounts: Sendable, Hashable, Codable {
    public var residents: Int
    public var residentsUnder14: Int
    public var residentsWithFace: Int
    public var faceTemplates: Int
    public var activeConsents: Int
    /// Grant rows in the ledger (scope changes included), erased residents' rows excluded.
    public var consentGrants: Int
    public var guardianConsents: Int
    public var withdrawals: Int
    /// Residents erased (`resident.erase` tombstones).
    public var erasures: Int
    /// Residents whose face data was deleted at move-out (`resident.moveOut`).
    public var moveOuts: Int
    public var cards: Int
    public var pins: Int
    public var auditEntries: Int
}

/// One generated impact assessment or report, as kept at least three years (R13).
public struct AssessmentRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var time: WallTime
    public var kind: String
    public var language: String
    public var format: String
    public var sha256: String
    public var `operator`: String
}

extension GateDatabase {
    public func complianceCounts() throws -> ComplianceCounts {
        try read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return ComplianceCounts(
                residents: try count("SELECT count(*) FROM resident"),
                residentsUnder14: try count("SELECT count(*) FROM resident WHERE under14 = 1"),
                residentsWithFace: try count("SELECT count(DISTINCT residentId) FROM faceTemplate"),
                faceTemplates: try count("SELECT count(*) FROM faceTemplate"),
                activeConsents: try count("""
                    SELECT count(*) FROM consent c WHERE action = 'grant'
                    AND id = (SELECT max(id) FROM consent WHERE residentId = c.residentId)
                    """),
                consentGrants: try count("SELECT count(*) FROM consent WHERE action = 'grant'"),
                guardianConsents: try count("SELECT count(*) FROM consent WHERE action = 'grant' AND guardianName IS NOT NULL"),
                withdrawals: try count("SELECT count(*) FROM consent WHERE action = 'withdraw'"),
                erasures: try count("SELECT count(*) FROM auditEntry WHERE action = 'resident.erase'"),
                moveOuts: try count("SELECT count(*) FROM auditEntry WHERE action = 'resident.moveOut'"),
                cards: try count("SELECT count(*) FROM card"),
                pins: try count("SELECT count(*) FROM pin"),
                auditEntries: try count("SELECT count(*) FROM auditEntry")
            )
        }
    }

    /// Records a generated assessment (its SHA-256 and time, never its text) with an audit entry.
    @discardableResult
    public func recordAssessment(kind: String, language: String, format: String, content: Data, operator op: String) throws -> AssessmentRecord {
        let sha256 = SHA256.hash(data: content).hex
        let time = now()
        return try write { db in
            try db.execute(sql: "INSERT INTO assessment (time, kind, language, format, sha256, operator) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [time.millisecondsSince1970, kind, language, format, sha256, op])
            let id = db.lastInsertedRowID
            try audit(AuditRecord(time: time, category: .admin, action: .complianceAssessment, operator: op,
                                  detail: ["assessment": String(id), "kind": kind, "language": language, "format": format, "sha256": sha256]), in: db)
            return AssessmentRecord(id: id, time: time, kind: kind, language: language, format: format, sha256: sha256, operator: op)
        }
    }

    public func assessments() throws -> [AssessmentRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM assessment ORDER BY id").map {
                AssessmentRecord(id: $0["id"], time: WallTime(millisecondsSince1970: $0["time"]), kind: $0["kind"], language: $0["language"],
                                 format: $0["format"], sha256: $0["sha256"], operator: $0["operator"])
            }
        }
    }

    /// Access groups as the assessment lists them: name, doors, schedule, members.
    public func groupSummaries() throws -> [(name: String, doors: [String], schedule: String, members: Int)] {
        let members = try groupMembers()
        return try groups().map { ($0.name, $0.doors.sorted(), $0.profile ?? "always", members[$0.name] ?? 0) }
    }
}
