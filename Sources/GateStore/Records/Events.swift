import Foundation
import GRDB
public import GateCore

extension GateDatabase {
    /// Appends an access decision, alarm or system event to the audit log.
    /// - Returns: the entry's seq, which is how the journal refers to it (never by resident).
    @discardableResult
    public func record(_ record: AuditRecord) throws -> Int64 {
        try write { db in try audit(record, in: db).seq }
    }

    /// Access and alarm events, oldest first. - Parameters: `since` filters by time; `limit` keeps the newest N.
    public func events(since: WallTime? = nil, residentID: String? = nil, limit: Int? = nil) throws -> [EventEntry] {
        try read { db in
            var sql = "SELECT * FROM auditEntry WHERE category IN ('access', 'alarm') AND redactedBy IS NULL"
            var arguments: StatementArguments = []
            if let since {
                sql += " AND time >= ?"
                arguments += [since.millisecondsSince1970]
            }
            if let residentID {
                sql += " AND residentId = ?"
                arguments += [residentID]
            }
            sql += " ORDER BY seq DESC"
            if let limit {
                sql += " LIMIT ?"
                arguments += [limit]
            }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).reversed().map { row in
                let method: String? = row["method"]
                let result: String? = row["result"]
                let reason: String? = row["reason"]
                return EventEntry(
                    seq: row["seq"], time: WallTime(millisecondsSince1970: row["time"]), door: row["door"],
                    method: method.flatMap(AccessMethod.init(rawValue:)), result: result.flatMap(AccessResult.init(rawValue:)),
                    reason: reason.flatMap(DecisionReason.init(rawValue:)), residentID: row["residentId"],
                    operator: row["operator"], action: row["action"], count: Self.decisionCount(row)
                )
            }
        }
    }

    /// 1 for an ordinary event; for an `access.denied.collapsed` entry, the denials it counts.
    static func decisionCount(_ row: Row) -> Int {
        guard (row["action"] as String?) == AuditAction.deniedCollapsed.rawValue else { return 1 }
        return Fields(row: row).detailValues["count"].flatMap(Int.init) ?? 1
    }

    /// Audit entries, oldest first, redacted ones included as bare seqs.
    public func auditEntries(limit: Int? = nil) throws -> [AuditEntry] {
        try read { db in
            let sql = "SELECT * FROM auditEntry ORDER BY seq DESC" + (limit.map { " LIMIT \($0)" } ?? "")
            return try Row.fetchAll(db, sql: sql).reversed().map { row in
                let time: Int64? = row["time"]
                return AuditEntry(seq: row["seq"], time: time.map(WallTime.init(millisecondsSince1970:)),
                                  category: row["category"], action: row["action"], residentID: row["residentId"],
                                  operator: row["operator"], detail: row["detail"], redactedBy: row["redactedBy"])
            }
        }
    }

    /// Checks the whole audit log (`auditReport`) and names its first finding.
    public func verifyAudit() throws -> AuditVerification {
        let report = try auditReport()
        guard let first = report.findings.first else { return .intact(entries: Int(report.entries)) }
        return .broken(seq: first.seq, problem: first.message)
    }

    /// Blanks access and alarm events older than `days` (R9, R20), keeping the chain verifiable.
    /// - Returns: how many events were blanked.
    @discardableResult
    public func purgeEvents(olderThanDays days: Int, operator op: String) throws -> Int {
        let cutoff = now().adding(days: -days)
        let count = try write { db -> Int in
            let seqs = try Int64.fetchAll(db, sql: """
                SELECT seq FROM auditEntry WHERE category IN ('access', 'alarm') AND redactedBy IS NULL AND time < ? ORDER BY seq
                """, arguments: [cutoff.millisecondsSince1970])
            guard !seqs.isEmpty else { return 0 }
            let purge = try AuditChain.nextSeq(in: db, headKey: keys.auditHead)
            var detail = try AuditChain.redact(seqs, by: purge, in: db)
            detail["olderThanDays"] = String(days)
            try audit(AuditRecord(time: now(), category: .admin, action: .eventsPurge, operator: op, detail: detail), in: db)
            return seqs.count
        }
        if count > 0 { try purgeWriteAheadLog() }
        return count
    }

    /// Counts for `optgate status` and the filing counter (R14).
    public func counts() throws -> StoreCounts {
        try read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return StoreCounts(
                residents: try count("SELECT count(*) FROM resident"),
                cards: try count("SELECT count(*) FROM card"),
                pins: try count("SELECT count(*) FROM pin"),
                activeConsents: try count("""
                    SELECT count(*) FROM consent c WHERE action = 'grant' AND id = (SELECT max(id) FROM consent WHERE residentId = c.residentId)
                    """),
                faceTemplates: try count("SELECT count(*) FROM faceTemplate"),
                peopleWithFaceData: try count("SELECT count(DISTINCT residentId) FROM faceTemplate"),
                auditEntries: try count("SELECT count(*) FROM auditEntry")
            )
        }
    }
}

public enum AuditVerification: Sendable, Equatable {
    case intact(entries: Int)
    case broken(seq: Int64, problem: String)
}

