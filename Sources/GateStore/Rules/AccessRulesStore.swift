public import GateCore
import GRDB

/// One imported calendar as `calendar list` shows it.
public struct CalendarSummary: Sendable, Hashable {
    public var name: String
    public var holidays: Int
    public var workdays: Int
    public var first: LocalDate?
    public var last: LocalDate?
}

/// A change of one optional value: leave it, or set it (to a value or to none).
public enum FieldChange<Value: Sendable & Hashable>: Sendable, Hashable {
    case keep
    case set(Value?)
}

/// Proof that a moved-out resident's face templates were deleted: the consent ledger's withdrawal row
/// (when a consent was in force), the audit entry and a keyed token of the resident id, as for an erasure.
public struct MoveOutReceipt: Sendable, Hashable {
    public var residentID: String
    public var auditSeq: Int64
    public var consentID: Int64?
    public var templatesDeleted: Int
    public var token: String
    public var time: WallTime
}

extension GateDatabase {
    /// The compound's access rules (groups, schedules, calendars, passage) as one value for the gate machine.
    /// - Parameter zone: the site's time zone (`site.timeZone`); schedules are read in its civil time.
    public func accessRules(zone: SiteTimeZone = .shanghai) throws -> AccessRules {
        try read { db in
            let profiles = try Row.fetchAll(db, sql: "SELECT * FROM timeProfile").map(TimeProfile.init(row:))
            var calendar = HolidayCalendar()
            for row in try Row.fetchAll(db, sql: "SELECT day, kind FROM calendarDay") {
                guard let day = LocalDate(row["day"] as String), let kind = CalendarDayKind(rawValue: row["kind"]) else { continue }
                calendar.merge([day: kind])
            }
            return AccessRules(zone: zone, profiles: profiles, calendar: calendar, groups: try groups(in: db),
                               passage: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT door, profile FROM doorPassage")
                                   .map { ($0["door"] as String, $0["profile"] as String) }))
        }
    }

    /// A number that changes whenever the access rules change, cheap enough to read before every decision:
    /// one row, bumped by triggers on every table `accessRules()` reads.
    public func rulesVersion() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT version FROM rulesVersion WHERE id = 1") ?? 0 }
    }

    // MARK: Schedules

    public func addSchedule(_ profile: TimeProfile, operator op: String) throws {
        try write { db in
            guard try !exists(db, "SELECT 1 FROM timeProfile WHERE name = ?", profile.name) else {
                throw GateStoreError.rules("a schedule named \"\(profile.name)\" exists already")
            }
            try db.execute(sql: "INSERT INTO timeProfile (name, week, holiday, validFrom, validUntil, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [profile.name, Self.encode(week: profile.week), profile.holiday.map(Self.encode(plan:)),
                                       profile.validFrom?.description, profile.validUntil?.description, now().millisecondsSince1970])
            var detail = ["schedule": profile.name, "week": Self.encode(week: profile.week)]
            if let holiday = profile.holiday { detail["holiday"] = Self.encode(plan: holiday) }
            if let from = profile.validFrom { detail["from"] = from.description }
            if let until = profile.validUntil { detail["until"] = until.description }
            try audit(AuditRecord(time: now(), category: .admin, action: .scheduleAdd, operator: op, detail: detail), in: db)
        }
    }

    public func schedules() throws -> [TimeProfile] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM timeProfile ORDER BY name").map(TimeProfile.init(row:)) }
    }

    // MARK: Calendars

    /// Stores (or replaces) the calendar `name` with the days of `events`, in one transaction.
    /// - Returns: the number of holidays and make-up workdays stored.
    @discardableResult
    public func importCalendar(name: String, events: [ICalendar.Event], operator op: String) throws -> (holidays: Int, workdays: Int) {
        let days = ICalendar.days(of: events)
        var summaries: [LocalDate: String] = [:]
        for event in events {
            for number in event.start.dayNumber..<event.end.dayNumber where summaries[LocalDate(dayNumber: number)] == nil {
                summaries[LocalDate(dayNumber: number)] = event.summary
            }
        }
        return try write { db in
            try db.execute(sql: "DELETE FROM calendarDay WHERE calendar = ?", arguments: [name])
            let replaced = db.changesCount
            for (day, kind) in days.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO calendarDay (calendar, day, kind, summary) VALUES (?, ?, ?, ?)",
                               arguments: [name, day.description, kind.rawValue, String((summaries[day] ?? "").prefix(200))])
            }
            let holidays = days.values.filter { $0 == .holiday }.count
            let workdays = days.count - holidays
            try audit(AuditRecord(time: now(), category: .admin, action: .calendarImport, operator: op,
                                  detail: ["calendar": name, "events": String(events.count), "holidays": String(holidays),
                                           "workdays": String(workdays), "replacedDays": String(replaced)]), in: db)
            return (holidays, workdays)
        }
    }

    public func calendars() throws -> [CalendarSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT calendar, sum(kind = 'holiday') AS holidays, sum(kind = 'workday') AS workdays, min(day) AS first, max(day) AS last
                FROM calendarDay GROUP BY calendar ORDER BY calendar
                """).map {
                CalendarSummary(name: $0["calendar"], holidays: $0["holidays"], workdays: $0["workdays"],
                                first: LocalDate($0["first"] as String), last: LocalDate($0["last"] as String))
            }
        }
    }

    /// The site calendar's entries between two days (inclusive), for `calendar list --days`.
    public func calendarDays(from: LocalDate, through: LocalDate) throws -> [(day: LocalDate, kind: CalendarDayKind, summary: String, calendar: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM calendarDay WHERE day BETWEEN ? AND ? ORDER BY day, calendar",
                             arguments: [from.description, through.description]).compactMap { row in
                guard let day = LocalDate(row["day"] as String), let kind = CalendarDayKind(rawValue: row["kind"]) else { return nil }
                return (day, kind, row["summary"], row["calendar"])
            }
        }
    }

    // MARK: Groups

    /// Adds an access group. The caller has checked the doors against the configuration (`AccessGroup.check`).
    public func addGroup(_ group: AccessGroup, operator op: String) throws {
        try write { db in
            guard try !exists(db, "SELECT 1 FROM accessGroup WHERE name = ?", group.name) else {
                throw GateStoreError.rules("a group named \"\(group.name)\" exists already")
            }
            if let profile = group.profile, try !exists(db, "SELECT 1 FROM timeProfile WHERE name = ?", profile) {
                throw GateStoreError.rules("there is no schedule named \"\(profile)\" (optgate schedule list)")
            }
            guard !group.doors.isEmpty else { throw GateStoreError.rules("a group needs at least one door") }
            try db.execute(sql: "INSERT INTO accessGroup (name, profile, mode, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [group.name, group.profile, group.mode.rawValue, now().millisecondsSince1970])
            for door in group.doors.sorted() {
                try db.execute(sql: "INSERT INTO accessGroupDoor (groupName, door) VALUES (?, ?)", arguments: [group.name, door])
            }
            try audit(AuditRecord(time: now(), category: .admin, action: .groupAdd, operator: op,
                                  detail: ["group": group.name, "doors": group.doors.sorted().joined(separator: ","),
                                           "schedule": group.profile ?? "always", "mode": group.mode.rawValue]), in: db)
        }
    }

    public func groups() throws -> [AccessGroup] {
        try read { db in try groups(in: db).sorted { $0.name < $1.name } }
    }

    /// How many residents each group has.
    public func groupMembers() throws -> [String: Int] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT groupName, count(*) AS n FROM residentGroup GROUP BY groupName")
                .map { ($0["groupName"] as String, $0["n"] as Int) })
        }
    }

    func groups(in db: Database) throws -> [AccessGroup] {
        var doors: [String: Set<String>] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT groupName, door FROM accessGroupDoor") {
            doors[row["groupName"], default: []].insert(row["door"])
        }
        return try Row.fetchAll(db, sql: "SELECT name, profile, mode FROM accessGroup").map { row in
            AccessGroup(name: row["name"], doors: doors[row["name"]] ?? [], profile: row["profile"],
                        mode: VerifyMode(rawValue: row["mode"]) ?? .any)
        }
    }

    // MARK: Passage

    /// Holds `door` unlocked during the schedule `profile`; `nil` ends passage at that door.
    public func setPassage(door: String, profile: String?, operator op: String) throws {
        try write { db in
            if let profile {
                guard try exists(db, "SELECT 1 FROM timeProfile WHERE name = ?", profile) else {
                    throw GateStoreError.rules("there is no schedule named \"\(profile)\" (optgate schedule list)")
                }
                try db.execute(sql: "INSERT INTO doorPassage (door, profile) VALUES (?, ?) ON CONFLICT(door) DO UPDATE SET profile = excluded.profile",
                               arguments: [door, profile])
            } else {
                try db.execute(sql: "DELETE FROM doorPassage WHERE door = ?", arguments: [door])
            }
            try audit(AuditRecord(time: now(), category: .admin, action: .doorPassage, door: door, operator: op,
                                  detail: ["schedule": profile ?? "none"]), in: db)
        }
    }

    // MARK: Residents

    /// Changes a resident's name, unit, move-in and move-out times and groups (`nil`/`.keep` keeps a field;
    /// `groups: []` puts the resident back in the default group). The audit entry says which fields changed,
    /// never the new name or unit (personal data stays out of the log).
    public func updateResident(_ id: String, name: String? = nil, unit: String? = nil, validFrom: FieldChange<WallTime> = .keep,
                               validUntil: FieldChange<WallTime> = .keep, groups: [String]? = nil, operator op: String) throws {
        try write { db in
            try requireResident(id, in: db)
            var detail: [String: String] = [:]
            if let name {
                try db.execute(sql: "UPDATE resident SET displayName = ? WHERE id = ?", arguments: [name, id])
                detail["name"] = "changed"
            }
            if let unit {
                try db.execute(sql: "UPDATE resident SET unit = ? WHERE id = ?", arguments: [unit, id])
                detail["unit"] = "changed"
            }
            if case .set(let value) = validFrom {
                try db.execute(sql: "UPDATE resident SET validFrom = ? WHERE id = ?", arguments: [value?.millisecondsSince1970, id])
                detail["validFrom"] = value.map { String($0.millisecondsSince1970) } ?? "none"
            }
            if case .set(let value) = validUntil {
                try db.execute(sql: "UPDATE resident SET validUntil = ? WHERE id = ?", arguments: [value?.millisecondsSince1970, id])
                detail["validUntil"] = value.map { String($0.millisecondsSince1970) } ?? "none"
            }
            if let groups {
                for group in groups where try !exists(db, "SELECT 1 FROM accessGroup WHERE name = ?", group) {
                    throw GateStoreError.rules("there is no group named \"\(group)\" (optgate group list)")
                }
                try db.execute(sql: "DELETE FROM residentGroup WHERE residentId = ?", arguments: [id])
                for group in Set(groups).sorted() {
                    try db.execute(sql: "INSERT INTO residentGroup (residentId, groupName) VALUES (?, ?)", arguments: [id, group])
                }
                detail["groups"] = groups.isEmpty ? "default" : Set(groups).sorted().joined(separator: ",")
            }
            let record = try resident(id, in: db)
            if let from = try Int64.fetchOne(db, sql: "SELECT validFrom FROM resident WHERE id = ?", arguments: [id]),
               let until = record.validUntil, until.millisecondsSince1970 <= from {
                throw GateStoreError.rules("the move-out time must come after the move-in time")
            }
            try audit(AuditRecord(time: now(), category: .admin, action: .residentUpdate, residentID: id, operator: op, detail: detail), in: db)
        }
    }

    /// A resident's move-in time and groups (`resident show`).
    public func residentAccess(_ id: String) throws -> (validFrom: WallTime?, groups: [String]) {
        try read { db in
            try requireResident(id, in: db)
            let from = try Int64.fetchOne(db, sql: "SELECT validFrom FROM resident WHERE id = ?", arguments: [id])
            return (from.map(WallTime.init(millisecondsSince1970:)),
                    try String.fetchAll(db, sql: "SELECT groupName FROM residentGroup WHERE residentId = ? ORDER BY groupName", arguments: [id]))
        }
    }

    // MARK: Move-out (R9)

    /// Residents whose `validUntil` has passed at `now` and who still have face templates or a consent in force.
    public func dueMoveOuts(at now: WallTime) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT r.id FROM resident r WHERE r.validUntil <= ? AND \(Self.hasFaceData) ORDER BY r.validUntil",
                                arguments: [now.millisecondsSince1970])
        }
    }

    /// The next `validUntil` after `now` of a resident with face data, when to wake up next.
    public func nextMoveOut(after now: WallTime) throws -> WallTime? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT min(r.validUntil) FROM resident r WHERE r.validUntil > ? AND \(Self.hasFaceData)",
                               arguments: [now.millisecondsSince1970]).map(WallTime.init(millisecondsSince1970:))
        }
    }

    /// Moves a resident out (R9): withdraws their face consent as a withdrawal would (a ledger row),
    /// deletes every face template in the same transaction with one audit entry, and purges the write-ahead
    /// log. Cards and PINs stay (they are refused by `validUntil`), so the record can still be read.
    /// - Returns: `nil` when the resident has not moved out at this moment or has no face data left.
    public func moveOut(residentID: String, operator op: String) throws -> MoveOutReceipt? {
        let receipt = try write { db -> MoveOutReceipt? in
            let time = now()
            guard let until = try Int64.fetchOne(db, sql: "SELECT validUntil FROM resident WHERE id = ?", arguments: [residentID]),
                  until <= time.millisecondsSince1970 else { return nil }
            var consentID: Int64?
            if let grantID = try activeConsentID(for: residentID, in: db),
               let grant = try consentRecords(residentID, in: db).first(where: { $0.id == grantID }) {
                consentID = try appendConsent(residentID, .withdraw, notice: (grant.noticeVersion, grant.noticeSHA256, grant.language),
                                              method: .console, operator: op, scope: grant.scope, device: grant.device, in: db).id
            }
            try db.execute(sql: "DELETE FROM faceTemplate WHERE residentId = ?", arguments: [residentID])
            let deleted = db.changesCount
            guard consentID != nil || deleted > 0 else { return nil }
            let token = keys.erasureToken(for: residentID)
            var detail = ["templatesDeleted": String(deleted), "receipt": token, "validUntil": String(until)]
            if let consentID { detail["consent"] = String(consentID) }
            let head = try audit(AuditRecord(time: time, category: .admin, action: .residentMoveOut, residentID: residentID,
                                             operator: op, detail: detail), in: db)
            return MoveOutReceipt(residentID: residentID, auditSeq: head.seq, consentID: consentID, templatesDeleted: deleted,
                                  token: token, time: time)
        }
        if receipt != nil { try purgeWriteAheadLog() }
        return receipt
    }

    static let hasFaceData = """
        (EXISTS (SELECT 1 FROM faceTemplate f WHERE f.residentId = r.id)
         OR (SELECT c.action FROM consent c WHERE c.residentId = r.id ORDER BY c.id DESC LIMIT 1) = 'grant')
        """

    /// The columns `CredentialHolder(row:)` reads, for a query over `resident r`.
    static let holderColumns = """
        r.id, r.validFrom, r.validUntil,
        (SELECT group_concat(g.groupName, char(31)) FROM residentGroup g WHERE g.residentId = r.id) AS groups,
        EXISTS (SELECT 1 FROM faceTemplate f WHERE f.residentId = r.id) AS hasFace
        """

    private func exists(_ db: Database, _ sql: String, _ argument: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (\(sql))", arguments: [argument]) ?? false
    }

    static func encode(plan: [TimeSegment]) -> String { plan.map(\.description).joined(separator: ",") }
    static func encode(week: [[TimeSegment]]) -> String {
        zip(Weekday.allCases, week).map { "\($0.rawValue)=\(encode(plan: $1))" }.joined(separator: ";")
    }

    static func decode(plan: String) -> [TimeSegment] { plan.split(separator: ",").compactMap { TimeSegment($0) } }
    static func decode(week: String) -> [[TimeSegment]] {
        var plans = Array(repeating: [TimeSegment](), count: 7)
        for entry in week.split(separator: ";") {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let day = Weekday(rawValue: String(parts[0])) else { continue }
            plans[day.index] = decode(plan: String(parts[1]))
        }
        return plans
    }
}

extension TimeProfile {
    init(row: Row) throws {
        let from: String? = row["validFrom"], until: String? = row["validUntil"], holiday: String? = row["holiday"]
        try self.init(name: row["name"], week: GateDatabase.decode(week: row["week"]), holiday: holiday.map(GateDatabase.decode(plan:)),
                      validFrom: from.flatMap { LocalDate($0) }, validUntil: until.flatMap { LocalDate($0) })
    }
}

extension GateDatabase {
    /// Benchmark fixture: `residents` residents with one card each (UID `0xB0000000 + index`, 4 bytes);
    /// with `groups` > 0, `profiles` time profiles (8 segments a day) and `groups` groups over them, and
    /// every resident in two groups. Resident 0 is in a group open at every moment (its profile covers
    /// the whole day). One transaction. Not product API: nothing but `optgate-bench` imports this SPI.
    @_spi(Benchmark)
    public func seedRulesForBenchmark(residents: Int, groups: Int, profiles: Int) throws {
        try write { db in
            for index in 0..<profiles {
                let shift = index % 60
                let plan = (0..<8).map { segment in TimeSegment(start: segment * 180 + shift, end: segment * 180 + shift + 90)! }
                let week = index == 0 ? Array(repeating: [TimeSegment("00:00-24:00")!], count: 7) : Array(repeating: plan, count: 7)
                try db.execute(sql: "INSERT INTO timeProfile (name, week, holiday, createdAt) VALUES (?, ?, ?, 0)",
                               arguments: ["p\(index)", Self.encode(week: week), index % 2 == 0 ? Self.encode(plan: plan) : nil])
            }
            for index in 0..<groups {
                try db.execute(sql: "INSERT INTO accessGroup (name, profile, mode, createdAt) VALUES (?, ?, 'any', 0)",
                               arguments: ["g\(index)", profiles > 0 ? "p\(index % profiles)" : nil])
                for door in ["main", "door\(index % 7)", "garage\(index % 3)"] {
                    try db.execute(sql: "INSERT OR IGNORE INTO accessGroupDoor (groupName, door) VALUES (?, ?)", arguments: ["g\(index)", door])
                }
            }
            for index in 0..<residents {
                let id = "rbench\(index)"
                try db.execute(sql: "INSERT INTO resident (id, displayName, unit, createdAt) VALUES (?, ?, 'bench', 0)",
                               arguments: [id, "Bench \(index)"])
                let uid = CardUID(String(UInt32(0xB000_0000) + UInt32(index), radix: 16, uppercase: true))!
                let fingerprint = keys.fingerprint(of: uid)
                try db.execute(sql: "INSERT INTO card (residentId, uidTag, uidLast4, createdAt) VALUES (?, ?, ?, 0)",
                               arguments: [id, fingerprint.tag, fingerprint.last4])
                guard groups > 0 else { continue }
                for group in Set([index % groups, (index * 7 + 3) % groups]) {
                    try db.execute(sql: "INSERT INTO residentGroup (residentId, groupName) VALUES (?, ?)", arguments: [id, "g\(group)"])
                }
            }
        }
    }
}
