import Foundation
import GRDB
public import GateCore

extension GateDatabase {
    /// Credential decisions (face, card, PIN, visitor) recorded in `[since, until)`, for the parity report (R2):
    /// granted and denied access entries, with their `latencyMs`, and collapsed denial windows (their extra
    /// denials, without latency). Blanked (purged, erased) entries are gone from it, as from `events`.
    public func parityDecisions(since: WallTime?, until: WallTime?) throws -> [ParityDecision] {
        try read { db in
            var sql = """
                SELECT action, method, result, detail FROM auditEntry
                WHERE category = 'access' AND redactedBy IS NULL AND result IN ('granted', 'denied')
                """
            var arguments: StatementArguments = []
            if let since { sql += " AND time >= ?"; arguments += [since.millisecondsSince1970] }
            if let until { sql += " AND time < ?"; arguments += [until.millisecondsSince1970] }
            return try Row.fetchAll(db, sql: sql + " ORDER BY seq", arguments: arguments).compactMap { row in
                guard let method = (row["method"] as String?).flatMap(AccessMethod.init(rawValue:)),
                      AccessMethod.parityMethods.contains(method) else { return nil }
                let detail = Self.detailValues(row["detail"])
                if (row["action"] as String?) == AuditAction.deniedCollapsed.rawValue {
                    // The window's count includes the denials recorded one by one; only the rest are added here.
                    let extra = (detail["count"].flatMap(Int.init) ?? 0) - (detail["recordedIndividually"].flatMap(Int.init) ?? 0)
                    return extra > 0 ? ParityDecision(method: method, granted: false, latencyMs: nil, count: extra) : nil
                }
                return ParityDecision(method: method, granted: (row["result"] as String?) == AccessResult.granted.rawValue,
                                      latencyMs: detail["latencyMs"].flatMap(Int64.init))
            }
        }
    }

    static func detailValues(_ text: String?) -> [String: String] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] else { return [:] }
        return object
    }
}
