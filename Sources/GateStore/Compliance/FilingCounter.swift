import Foundation
import GRDB
public import GateCore

extension GateDatabase {
    /// Distinct people whose face data is stored.
    public func peopleWithFaceData() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(DISTINCT residentId) FROM faceTemplate") ?? 0 }
    }

    /// Raises the alarm for every threshold the count has reached and that was never alarmed before: one
    /// `filing.threshold` alarm entry and one `filingAlarm` row each, in one transaction, so neither a
    /// restart nor a second daemon repeats it. - Returns: the thresholds raised now.
    @discardableResult
    public func raiseFilingAlarms(_ thresholds: FilingThresholds) throws -> [Int] {
        let people = try peopleWithFaceData()
        let all = Set(thresholds.warnAt + [thresholds.filing])
        guard all.contains(where: { $0 <= people }) else { return [] }
        return try write { db in
            let people = try Int.fetchOne(db, sql: "SELECT count(DISTINCT residentId) FROM faceTemplate") ?? 0
            let raised = Set(try Int.fetchAll(db, sql: "SELECT threshold FROM filingAlarm"))
            var raisedNow: [Int] = []
            for threshold in all.sorted() where threshold <= people && !raised.contains(threshold) {
                let kind = threshold == thresholds.filing ? "filing" : "warning"
                let time = self.now()
                try db.execute(sql: "INSERT INTO filingAlarm (threshold, kind, time, people) VALUES (?, ?, ?, ?)",
                               arguments: [threshold, kind, time.millisecondsSince1970, people])
                try audit(AuditRecord(time: time, category: .alarm, action: .filingThreshold, result: .alarm, operator: "optgated",
                                      detail: ["threshold": String(threshold), "kind": kind, "people": String(people)]), in: db)
                raisedNow.append(threshold)
            }
            return raisedNow
        }
    }

    /// The counter, the thresholds crossed and, once the filing threshold was reached, the deadline computed
    /// with the site's holiday and make-up-workday calendar.
    public func filingStatus(_ thresholds: FilingThresholds, zone: SiteTimeZone, at time: WallTime? = nil) throws -> FilingStatus {
        let people = try peopleWithFaceData()
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT threshold, kind, time FROM filingAlarm ORDER BY threshold") }
        var status = FilingStatus(people: people, warnAt: thresholds.warnAt.sorted(), filingThreshold: thresholds.filing,
                                  crossed: rows.map { $0["threshold"] })
        // The earliest time any threshold at or above the filing threshold was reached (a lowered threshold counts too).
        if let reached = rows.filter({ ($0["threshold"] as Int) >= thresholds.filing || ($0["kind"] as String) == "filing" })
            .map({ WallTime(millisecondsSince1970: $0["time"]) }).min(by: { $0.millisecondsSince1970 < $1.millisecondsSince1970 }) {
            let calendar = try accessRules(zone: zone).calendar
            let deadline = calendar.adding(workingDays: thresholds.deadlineWorkingDays, after: zone.local(reached).date)
            status.filingReachedAt = reached
            status.filingDeadline = deadline.description
            status.workingDaysLeft = calendar.workingDays(after: zone.local(time ?? now()).date, through: deadline)
        }
        return status
    }
}
