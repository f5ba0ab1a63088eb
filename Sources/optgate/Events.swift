import ArgumentParser
import Foundation
import GateCore
import GateStore

/// An event as `--json` and `--csv` print it (docs/cli-json.md).
struct EventJSON: Encodable {
    var seq: Int64
    var time: String
    var door: String?
    var method: String?
    var result: String?
    var reason: String?
    var resident: String?
    var `operator`: String?

    init(_ event: EventEntry) {
        seq = event.seq
        time = Output.time(event.time)
        door = event.door
        method = event.method?.rawValue
        result = event.result?.rawValue
        reason = event.reason?.rawValue
        resident = event.residentID
        self.operator = event.operator
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(time, forKey: .time)
        // Always present, null when absent: consumers can rely on the keys.
        try container.encode(door, forKey: .door)
        try container.encode(method, forKey: .method)
        try container.encode(result, forKey: .result)
        try container.encode(reason, forKey: .reason)
        try container.encode(resident, forKey: .resident)
        try container.encode(self.operator, forKey: .operator)
    }

    enum CodingKeys: String, CodingKey {
        case seq, time, door, method, result, reason, resident, `operator`
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show access decisions and alarms, oldest first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only events at or after this ISO 8601 time or date.") var since: String?
    @Option(help: "Only the newest N events.") var limit: Int?
    @Flag(help: "JSON output.") var json = false
    @Flag(help: "CSV output.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("Please choose one of --json and --csv.") }
        if let since, parseSince(since) == nil {
            throw ValidationError("Please give --since as a real date YYYY-MM-DD or an ISO 8601 time, from \(CommandLineDate.range).")
        }
        if let limit, limit < 1 { throw ValidationError("Please give a positive --limit.") }
    }

    func parseSince(_ text: String) -> WallTime? {
        CommandLineDate.parse(text, endOfDay: false)
    }

    func run() throws {
        let events = try global.database().events(since: since.flatMap(parseSince), limit: limit).map(EventJSON.init)
        if json { return try Output.json(events) }
        if csv {
            print("seq,time,door,method,result,reason,resident,operator")
            for event in events {
                let fields = [String(event.seq), event.time, event.door, event.method, event.result, event.reason,
                              event.resident, event.operator].map { csvField($0 ?? "") }
                print(fields.joined(separator: ","))
            }
            return
        }
        // For people reading the table: names instead of ids (the JSON and CSV keep ids).
        let names = Dictionary(uniqueKeysWithValues: try global.database().residents().map { ($0.id, "\($0.displayName) (\($0.unit))") })
        for event in events {
            let who = event.resident.map { names[$0] ?? $0 } ?? event.operator ?? ""
            print([event.time, event.door ?? "-", event.method ?? "-", event.result ?? "-", event.reason ?? "-", who]
                .joined(separator: "  "))
        }
    }

    func csvField(_ value: String) -> String {
        value.contains(where: { ",\"\n".contains($0) }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify, list and purge the hash-chained audit log.",
        subcommands: [Verify.self, List.self, Purge.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every entry of the audit chain; exit 1 naming the first broken one.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            switch try global.database().verifyAudit() {
            case .intact(let entries):
                print("ok: \(entries) entries")
            case .broken(let seq, let problem):
                print("broken at entry \(seq): \(problem)")
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries (admin actions included).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only the newest N entries.") var limit: Int?

        func run() throws {
            for entry in try global.database().auditEntries(limit: limit) {
                guard entry.redactedBy == nil, let time = entry.time else {
                    print("\(entry.seq)  (blanked by entry \(entry.redactedBy ?? 0))")
                    continue
                }
                print([String(entry.seq), Output.time(time), entry.category ?? "", entry.action ?? "", entry.residentID ?? "-",
                       entry.operator ?? "-", entry.detail ?? ""].joined(separator: "  "))
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Blank access events older than the retention period now.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Retention in days.") var olderThanDays = 180

        func run() throws {
            let count = try global.database().purgeEvents(olderThanDays: olderThanDays, operator: currentOperator)
            print("\(count) event(s) older than \(olderThanDays) days blanked")
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export everything held about a resident as JSON (never templates, hashes or full card UIDs).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Resident id.") var id: String

    func run() throws {
        try Output.json(global.database().export(residentID: id))
    }
}
