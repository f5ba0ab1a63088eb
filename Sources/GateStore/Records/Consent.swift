import Foundation
import GRDB
public import GateCore

/// One row of the consent ledger.
public struct ConsentRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var residentID: String
    public var action: ConsentAction
    public var time: WallTime
    public var noticeVersion: String
    public var noticeSHA256: String
    public var language: String
    public var method: ConsentMethod
    public var `operator`: String
    /// Doors the consent covers; `["*"]` for all.
    public var scope: [String]
    public var device: String
    /// For a resident under 14 (R6): who consented on the child's behalf; `nil` for adults.
    public var guardian: GuardianConsent? = nil
}

extension GateDatabase {
    /// Records a separate, explicit face-recognition consent (R4) pinned to the notice the resident saw.
    ///
    /// While a consent is in force, a new grant is a **scope change**: it is recorded only when `scope`
    /// differs, supersedes the grant in force, and the resident's templates move to it in the same
    /// transaction. The new row bumps the face index version, so the recogniser applies the new scope
    /// within a second, as it does a withdrawal.
    /// - Throws: `GateStoreError.consentAlreadyActive` when a consent with the same scope is in force.
    public func grantConsent(
        residentID: String, notice: Notice, method: ConsentMethod, operator op: String, scope: [String] = ["*"],
        device: String = GateDatabase.deviceName, guardian: GuardianConsent? = nil
    ) throws -> ConsentRecord {
        try write { db in
            try requireResident(residentID, in: db)
            try requireGuardian(guardian, for: residentID, in: db)
            let superseded = try activeConsentID(for: residentID, in: db)
            if let superseded,
               try String.fetchOne(db, sql: "SELECT scope FROM consent WHERE id = ?", arguments: [superseded]) == scope.joined(separator: ",") {
                throw GateStoreError.consentAlreadyActive(residentID: residentID)
            }
            let record = try appendConsent(residentID, .grant, notice: (notice.version, notice.sha256, notice.language),
                                           method: method, operator: op, scope: scope, device: device, guardian: guardian, in: db)
            var detail = ["consent": String(record.id), "notice": notice.version, "method": method.rawValue,
                          "scope": scope.joined(separator: ",")]
            if let guardian { detail["guardianRelation"] = guardian.relation; detail["guardianMethod"] = guardian.method }
            if let superseded {
                try db.execute(sql: "UPDATE faceTemplate SET consentId = ? WHERE residentId = ? AND consentId = ?",
                               arguments: [record.id, residentID, superseded])
                detail["supersedes"] = String(superseded)
            }
            try audit(AuditRecord(time: record.time, category: .admin, action: .consentGrant, residentID: residentID,
                                  operator: op, detail: detail), in: db)
            return record
        }
    }

    /// Withdraws consent (R7): a withdrawal row is appended and every face template of the resident is
    /// deleted in the same transaction; the write-ahead log is then checkpointed and truncated so no
    /// template byte survives in the `.sqlite` or `-wal` file. Cards and PINs are untouched.
    /// - Returns: the withdrawal record and the number of templates deleted.
    public func withdrawConsent(residentID: String, method: ConsentMethod, operator op: String) throws -> (ConsentRecord, templatesDeleted: Int) {
        let result = try write { db -> (ConsentRecord, Int) in
            try requireResident(residentID, in: db)
            guard let grantID = try activeConsentID(for: residentID, in: db),
                  let grant = try consentRecords(residentID, in: db).first(where: { $0.id == grantID })
            else { throw GateStoreError.noActiveConsent(residentID: residentID) }
            let record = try appendConsent(residentID, .withdraw, notice: (grant.noticeVersion, grant.noticeSHA256, grant.language),
                                           method: method, operator: op, scope: grant.scope, device: grant.device, in: db)
            try db.execute(sql: "DELETE FROM faceTemplate WHERE residentId = ?", arguments: [residentID])
            let deleted = db.changesCount
            try audit(AuditRecord(time: record.time, category: .admin, action: .consentWithdraw, residentID: residentID,
                                  operator: op, detail: ["consent": String(record.id), "templatesDeleted": String(deleted)]), in: db)
            return (record, deleted)
        }
        try purgeWriteAheadLog()
        return result
    }

    public func consentHistory(residentID: String) throws -> [ConsentRecord] {
        try read { db in
            try requireResident(residentID, in: db)
            return try consentRecords(residentID, in: db)
        }
    }

    /// The id of the grant currently in force: the newest ledger row, when it is a grant.
    func activeConsentID(for residentID: String, in db: Database) throws -> Int64? {
        let row = try Row.fetchOne(db, sql: "SELECT id, action FROM consent WHERE residentId = ? ORDER BY id DESC LIMIT 1", arguments: [residentID])
        guard let row, (row["action"] as String) == ConsentAction.grant.rawValue else { return nil }
        return row["id"]
    }

    func consentRecords(_ residentID: String, in db: Database) throws -> [ConsentRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM consent WHERE residentId = ? ORDER BY id", arguments: [residentID]).map { row in
            let scope: String = row["scope"]
            return ConsentRecord(
                id: row["id"], residentID: row["residentId"],
                action: ConsentAction(rawValue: row["action"]) ?? .withdraw,
                time: WallTime(millisecondsSince1970: row["time"]),
                noticeVersion: row["noticeVersion"], noticeSHA256: row["noticeSHA256"], language: row["language"],
                method: ConsentMethod(rawValue: row["method"]) ?? .console, operator: row["operator"],
                scope: scope.split(separator: ",").map(String.init), device: row["device"],
                guardian: GuardianConsent(row: row)
            )
        }
    }

    func appendConsent(
        _ residentID: String, _ action: ConsentAction, notice: (version: String, sha256: String, language: String),
        method: ConsentMethod, operator op: String, scope: [String], device: String, guardian: GuardianConsent? = nil, in db: Database
    ) throws -> ConsentRecord {
        let time = now()
        try db.execute(
            sql: """
                INSERT INTO consent (residentId, action, time, noticeVersion, noticeSHA256, language, method, operator, scope, device,
                                     guardianName, guardianRelation, guardianMethod)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [residentID, action.rawValue, time.millisecondsSince1970, notice.version, notice.sha256,
                        notice.language, method.rawValue, op, scope.joined(separator: ","), device,
                        guardian?.name, guardian?.relation, guardian?.method]
        )
        return ConsentRecord(id: db.lastInsertedRowID, residentID: residentID, action: action, time: time,
                             noticeVersion: notice.version, noticeSHA256: notice.sha256, language: notice.language,
                             method: method, operator: op, scope: scope, device: device, guardian: guardian)
    }

    /// This gate's name in consent records: the host name.
    public static var deviceName: String { ProcessInfo.processInfo.hostName }
}
