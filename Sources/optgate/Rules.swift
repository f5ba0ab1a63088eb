public import ArgumentParser
import Foundation
public import GateCore
import GateConfiguration
import GateHub
import GateStore

extension VerifyMode: ExpressibleByArgument {}

/// `optgate schedule`: time profiles (docs/access-rules.md#schedules).
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Add and list schedules (time profiles) for access groups and passage.",
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a schedule: up to 8 time segments on the given days, read in the site's time zone (site.timeZone).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Schedule name.") var name: String
        @Option(help: "Days the segments apply: mon-fri, sat,sun, mon,wed-fri or daily. Other days are closed.") var days: String
        @Option(help: "A segment HH:MM-HH:MM (00:00-24:00 is the whole day); repeat for up to 8.") var time: [String] = []
        @Option(help: "A segment on holidays of the site calendar; repeat for up to 8. Without it, closed on holidays.")
        var holidayTime: [String] = []
        @Option(help: "First day the schedule is valid (YYYY-MM-DD).") var from: String?
        @Option(help: "Last day the schedule is valid (YYYY-MM-DD).") var until: String?

        func profile() throws -> TimeProfile {
            guard !name.isEmpty, name.count <= 64 else { throw ValidationError("Please give a name of 1 to 64 characters.") }
            guard let weekdays = Weekday.parseList(days) else {
                throw ValidationError("Please give --days as day names mon…sun, ranges and commas, e.g. mon-fri or sat,sun.")
            }
            guard !time.isEmpty else { throw ValidationError("Please give at least one --time HH:MM-HH:MM.") }
            func segments(_ texts: [String], _ flag: String) throws -> [TimeSegment] {
                try texts.map { text in
                    guard let segment = TimeSegment(text) else {
                        throw ValidationError("Please give \(flag) as HH:MM-HH:MM with the start before the end, e.g. 07:00-19:30 (not \"\(text)\").")
                    }
                    return segment
                }
            }
            let plan = try segments(time, "--time")
            let holiday = try segments(holidayTime, "--holiday-time")
            func date(_ text: String?, _ flag: String) throws -> LocalDate? {
                guard let text else { return nil }
                guard let date = LocalDate(text) else { throw ValidationError("Please give \(flag) as a real date YYYY-MM-DD.") }
                return date
            }
            do {
                return try TimeProfile(name: name, week: Weekday.allCases.map { weekdays.contains($0) ? plan : [] },
                                       holiday: holiday.isEmpty ? nil : holiday,
                                       validFrom: try date(from, "--from"), validUntil: try date(until, "--until"))
            } catch let error as RuleError {
                throw ValidationError("The schedule was refused: \(error).")
            }
        }

        func validate() throws { _ = try profile() }

        func run() throws {
            let profile = try profile()
            try global.database().addSchedule(profile, operator: currentOperator)
            print(Output.safe("schedule \(name) added: \(ScheduleCommand.describe(profile))"))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List schedules.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let database = try global.database()
            let passage = try database.accessRules().passage
            for profile in try database.schedules() {
                let doors = passage.filter { $0.value == profile.name }.keys.sorted()
                print(Output.safe("\(profile.name)  \(ScheduleCommand.describe(profile))\(doors.isEmpty ? "" : "; passage at \(doors.joined(separator: ","))")"))
            }
        }
    }

    static func describe(_ profile: TimeProfile) -> String {
        var parts: [String] = []
        var index = 0
        while index < 7 {
            var end = index
            while end + 1 < 7, profile.week[end + 1] == profile.week[index] { end += 1 }
            if !profile.week[index].isEmpty {
                let days = index == end ? Weekday.allCases[index].rawValue : "\(Weekday.allCases[index].rawValue)-\(Weekday.allCases[end].rawValue)"
                parts.append("\(days) \(profile.week[index].map(\.description).joined(separator: ","))")
            }
            index = end + 1
        }
        parts.append("holidays " + (profile.holiday.map { $0.map(\.description).joined(separator: ",") } ?? "closed"))
        if profile.validFrom != nil || profile.validUntil != nil {
            parts.append("valid \(profile.validFrom?.description ?? "…") to \(profile.validUntil?.description ?? "…")")
        }
        return parts.joined(separator: "; ")
    }
}

/// `optgate calendar`: holidays and make-up workdays from iCalendar files (docs/access-rules.md#calendars).
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar", abstract: "Import and list holiday calendars (.ics): holidays and make-up workdays (调休).",
        subcommands: [Import.self, List.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an iCalendar file as the calendar NAME, replacing an earlier import of that name; nothing is stored if the file has an error.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Calendar name, e.g. cn-2026.") var name: String
        @Argument(help: "The .ics file.") var file: String

        func run() throws {
            guard !name.isEmpty, name.count <= 64 else { throw ValidationError("Please give a name of 1 to 64 characters.") }
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            guard data.count <= 4 << 20 else { throw CLIError("\(file) is larger than 4 MiB; a holiday calendar is a few kilobytes") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text") }
            let events: [ICalendar.Event]
            do {
                events = try ICalendar.parse(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
            } catch {
                throw CLIError("\(file), \(error); nothing was imported")
            }
            guard !events.isEmpty else { throw CLIError("\(file) has no events; nothing was imported") }
            let counts = try global.database().importCalendar(name: name, events: events, operator: currentOperator)
            print(Output.safe("calendar \(name) imported: \(events.count) event(s), \(counts.holidays) holiday(s), \(counts.workdays) make-up workday(s)"))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List imported calendars, or their days with --days.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "List every marked day.") var days = false

        func run() throws {
            let database = try global.database()
            let calendars = try database.calendars()
            if calendars.isEmpty { print("no calendars imported") }
            for calendar in calendars {
                print(Output.safe("\(calendar.name)  \(calendar.first?.description ?? "?") to \(calendar.last?.description ?? "?"): \(calendar.holidays) holiday(s), \(calendar.workdays) make-up workday(s)"))
            }
            guard days, let first = calendars.compactMap(\.first).min(), let last = calendars.compactMap(\.last).max() else { return }
            for entry in try database.calendarDays(from: first, through: last) {
                print(Output.safe("\(entry.day) \(entry.day.weekday.rawValue)  \(entry.kind.rawValue)  \(entry.summary)  (\(entry.calendar))"))
            }
        }
    }
}

/// `optgate group`: access groups (docs/access-rules.md#groups).
struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Add and list access groups: doors × schedule × verify mode.",
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an access group. Residents join with optgate resident update ID --group NAME.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Group name.") var name: String
        @Option(help: "A door of the group; repeat for more.") var door: [String] = []
        @Option(help: "Schedule during which the group may pass (default: always).") var schedule: String?
        @Option(help: "What members present: any, card+pin, face+pin or unit+pin.") var mode: VerifyMode = .any
        @Option(help: "The daemon's configuration, whose doors --door must name (default: /etc/optgate/optgated.json when it exists, else built-in defaults).")
        var config: String?

        func validate() throws {
            guard !name.isEmpty, name.count <= 64 else { throw ValidationError("Please give a name of 1 to 64 characters.") }
            guard !door.isEmpty else { throw ValidationError("Please give at least one --door.") }
        }

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(config)
            let group = AccessGroup(name: name, doors: Set(door), profile: schedule, mode: mode)
            do {
                try group.check(doors: Dictionary(uniqueKeysWithValues: configuration.doors.map { ($0.name, $0.methods) }))
            } catch {
                throw CLIError("The group was refused: \(error).")
            }
            try global.database().addGroup(group, operator: currentOperator)
            print(Output.safe("group \(name) added: doors \(group.doors.sorted().joined(separator: ",")), schedule \(schedule ?? "always"), mode \(mode.rawValue)"))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List access groups.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let database = try global.database()
            let members = try database.groupMembers()
            let groups = try database.groups()
            if groups.isEmpty { print("no groups: every resident may use every door at any time (the default group)") }
            for group in groups {
                print(Output.safe("\(group.name)  doors \(group.doors.sorted().joined(separator: ","))  schedule \(group.profile ?? "always")  mode \(group.mode.rawValue)  \(members[group.name] ?? 0) resident(s)"))
            }
        }
    }
}

extension ResidentCommand {
    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a resident's name, unit, move-in and move-out times and access groups.",
            discussion: """
                At the move-out time (--valid-until) every credential stops at once, and optgated deletes the \
                resident's face templates and withdraws their face consent within a minute, with an audit entry \
                (resident.moveOut) and a receipt. With --hub the change is made at the fleet hub and reaches every \
                gate of the resident's site (--name, --unit, --valid-from, --valid-until; groups and --under-14 are \
                set at each gate for now).
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Option(help: "Name as shown to staff.") var name: String?
        @Option(help: "Unit, e.g. 3-2-1501.") var unit: String?
        @Option(help: "Move-in: first day of access (YYYY-MM-DD, from its start) or an ISO 8601 time; none clears it.")
        var validFrom: String?
        @Option(help: "Move-out: last day of access (YYYY-MM-DD, through the end of that day) or an ISO 8601 time; none clears it.")
        var validUntil: String?
        @Option(help: "An access group; repeat for several. --group default puts the resident back in the default group.")
        var group: [String] = []
        @Flag(name: .customLong("under-14"), inversion: .prefixedNo,
              help: "Mark the resident as a child under 14 (face consent then needs a guardian's), or not.")
        var under14: Bool?

        func change(_ text: String?, endOfDay: Bool, flag: String) throws -> FieldChange<WallTime> {
            guard let text else { return .keep }
            if text == "none" { return .set(nil) }
            guard let time = CommandLineDate.parse(text, endOfDay: endOfDay) else {
                throw ValidationError("Please give \(flag) as a real date YYYY-MM-DD, an ISO 8601 date-time from \(CommandLineDate.range), or none.")
            }
            return .set(time)
        }

        func validate() throws {
            _ = try change(validFrom, endOfDay: false, flag: "--valid-from")
            _ = try change(validUntil, endOfDay: true, flag: "--valid-until")
            if name == nil && unit == nil && validFrom == nil && validUntil == nil && group.isEmpty && under14 == nil {
                throw ValidationError("Please give --name, --unit, --valid-from, --valid-until, --group or --under-14/--no-under-14.")
            }
            if let name, name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("Please give a name.") }
            if let unit, unit.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("Please give a unit.") }
            if global.hubURL != nil && (!group.isEmpty || under14 != nil) {
                throw ValidationError("--group and --under-14 are not replicated by the hub yet; set them at each gate (without --hub).")
            }
            if group.contains("default") && group.count > 1 {
                throw ValidationError("--group default cannot be combined with other groups.")
            }
        }

        func run() throws {
            let groups: [String]? = group.isEmpty ? nil : (group == ["default"] ? [] : group)
            if global.hubURL != nil {
                let id = id
                let change = ResidentChange(name: name, unit: unit, validFrom: try change(validFrom, endOfDay: false, flag: "--valid-from"),
                                            validUntil: try change(validUntil, endOfDay: true, flag: "--valid-until"))
                try global.withHubDirectory { hub in try await hub.updateResident(id, change: change, operator: currentOperator) }
                return print("updated \(id) at the hub; every gate of its site applies the change")
            }
            let database = try global.database()
            if let under14 {
                try database.setUnder14(id, under14, operator: currentOperator)
                print("updated \(id): \(under14 ? "under 14: face consent needs a guardian's" : "not under 14")")
                if name == nil && unit == nil && validFrom == nil && validUntil == nil && group.isEmpty { return }
            }
            try database.updateResident(id, name: name, unit: unit, validFrom: try change(validFrom, endOfDay: false, flag: "--valid-from"),
                                        validUntil: try change(validUntil, endOfDay: true, flag: "--valid-until"),
                                        groups: groups, operator: currentOperator)
            let resident = try database.resident(id)
            let access = try database.residentAccess(id)
            print("updated \(id): valid from \(access.validFrom.map(Output.time) ?? "always") until \(resident.validUntil.map(Output.time) ?? "open-ended"); groups \(access.groups.isEmpty ? "default" : access.groups.joined(separator: ","))")
        }
    }
}

extension DoorCommand {
    struct Passage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold a door unlocked for free passage during a schedule (fire and lockdown still override it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Door name.") var door: String
        @Option(help: "The schedule, or none to end passage at the door.") var schedule: String
        @Option(help: "The daemon's configuration, whose doors DOOR must name (default: /etc/optgate/optgated.json when it exists, else built-in defaults).")
        var config: String?

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(config)
            guard configuration.doors.contains(where: { $0.name == door }) else {
                throw CLIError("There is no door \"\(door)\" in the configuration (doors: \(configuration.doors.map(\.name).joined(separator: ", "))).")
            }
            try global.database().setPassage(door: door, profile: schedule == "none" ? nil : schedule, operator: currentOperator)
            print(Output.safe(schedule == "none" ? "door \(door): no passage schedule" : "door \(door): held unlocked during schedule \(schedule)"))
        }
    }
}
