import ArgumentParser
import Foundation
import GateCore
import GateStore
import GateHub

/// An event as `--json` and `--csv` print it (docs/cli.md).
struct EventJSON: Encodable {
    var seq: Int64
    var time: String
    var door: String?
    var method: String?
    var result: String?
    var reason: String?
    var resident: String?
    var `operator`: String?
    var count: Int

    init(_ event: EventEntry) {
        seq = event.seq
        time = Output.time(event.time)
        door = event.door
        method = event.method?.rawValue
        result = event.result?.rawValue
        reason = event.reason?.rawValue
        resident = event.residentID
        self.operator = event.operator
        count = event.count
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
        try container.encode(count, forKey: .count)
    }

    enum CodingKeys: String, CodingKey {
        case seq, time, door, method, result, reason, resident, `operator`, count
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show access decisions and alarms, oldest first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only events at or after this ISO 8601 time or date.") var since: String?
    @Option(help: "Only the newest N events.") var limit: Int?
    @Flag(help: "JSON output.") var json = false
    @Flag(help: "CSV output.") var csv = false
    @Option(help: "With --hub: only the events of this gate.") var gate: String?

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
        if global.hubURL != nil { return try runHub() }
        if gate != nil { throw CLIError("--gate needs --hub: a single box shows its own events.") }
        let events = try global.database().events(since: since.flatMap(parseSince), limit: limit).map(EventJSON.init)
        if json { return try Output.json(events) }
        if csv {
            print("seq,time,door,method,result,reason,resident,operator,count")
            for event in events {
                print(Output.csv([String(event.seq), event.time, event.door, event.method, event.result, event.reason,
                                  event.resident, event.operator, String(event.count)]))
            }
            return
        }
        // For people reading the table: names instead of ids (the JSON and CSV keep ids).
        let names = Dictionary(uniqueKeysWithValues: try global.database().residents().map { ($0.id, "\($0.displayName) (\($0.unit))") })
        for event in events {
            let who = event.resident.map { names[$0] ?? $0 } ?? event.operator ?? ""
            let times = event.count == 1 ? [] : ["×\(event.count) (collapsed)"]
            print(Output.safe(([event.time, event.door ?? "-", event.method ?? "-", event.result ?? "-", event.reason ?? "-", who] + times)
                .joined(separator: "  ")))
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify, list and purge the hash-chained audit log.",
        subcommands: [Verify.self, Head.self, Reanchor.self, List.self, Purge.self, Heads.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Check the audit chain, its head record, the anchor file and optionally a witnessed head; \
            exit 1 naming every finding.
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "A head kept elsewhere: the JSON of `audit head --json`, or {\"seq\": N, \"hash\": HEX} from a journal line.")
        var witness: String?
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            var head: AuditWitness?
            if let witness {
                guard let data = FileManager.default.contents(atPath: witness) else {
                    throw CLIError("The witness file \(witness) cannot be read.")
                }
                do {
                    head = try AuditWitness(json: data)
                } catch {
                    throw CLIError("The witness file \(witness) holds no audit head: \(error)")
                }
            }
            let database = try global.database()
            let report = try database.auditReport(witness: head)
            if json {
                try Output.json(AuditReportJSON(report, anchorPath: database.auditAnchorPath))
            } else if report.isIntact {
                let anchored = report.anchor.map { ", anchored at entry \($0.seq) (\(Output.time($0.time)))" } ?? ""
                print("ok: \(report.entries) entries\(anchored)")
            } else {
                print("audit log: \(report.findings.count) finding(s)")
                for finding in report.findings {
                    print("  \(finding.kind.rawValue): \(finding.message)")
                }
            }
            if !report.isIntact { throw ExitCode(1) }
        }
    }

    struct Head: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the signed head of the audit log, for a witness to keep (`audit verify --witness`).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output (what `audit verify --witness` reads).") var json = false

        func run() throws {
            let head = try global.database().auditHead()
            if json { return try Output.json(head) }
            print("seq \(head.seq)  hash \(head.hash.map { String(format: "%02x", $0) }.joined())  \(Output.time(head.time))")
        }
    }

    struct Reanchor: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Accept the log as it is now and anchor its head (after restoring a backup or moving to a new box); \
            recorded in the audit log with the reason and the replaced anchor.
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Why, in words (recorded).") var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("Please give a --reason.") }
        }

        func run() throws {
            let (previous, current) = try global.database().reanchorAudit(reason: reason, operator: currentOperator)
            let was = previous.map { "entry \($0.seq) (\(Output.time($0.time)))" } ?? "none readable"
            print("audit anchor moved to entry \(current.seq); it was at \(was)")
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
                print(Output.safe([String(entry.seq), Output.time(time), entry.category ?? "", entry.action ?? "", entry.residentID ?? "-",
                                   entry.operator ?? "-", entry.detail ?? ""].joined(separator: "  ")))
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Blank access events older than the retention period now.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Retention in days (\(Self.allowedDays.lowerBound)–\(Self.allowedDays.upperBound)).") var olderThanDays = 180

        /// The same range as `retention.accessEventDays`: 0 would blank every event at once.
        static let allowedDays = 1...3650

        func validate() throws {
            guard Self.allowedDays.contains(olderThanDays) else {
                throw ValidationError("Please give --older-than-days from \(Self.allowedDays.lowerBound) to \(Self.allowedDays.upperBound).")
            }
        }

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

/// `audit verify --json` (docs/cli.md).
struct AuditReportJSON: Encodable {
    struct Finding: Encodable {
        var kind: String
        var seq: Int64
        var lastSeq: Int64?
        var since: String?
        var message: String
    }

    var ok: Bool
    var entries: Int64
    var head: SignedAuditHead?
    var anchor: SignedAuditHead?
    var anchorPath: String
    var findings: [Finding]

    init(_ report: AuditReport, anchorPath: String) {
        ok = report.isIntact
        entries = report.entries
        head = report.head
        anchor = report.anchor
        self.anchorPath = anchorPath
        findings = report.findings.map {
            Finding(kind: $0.kind.rawValue, seq: $0.seq, lastSeq: $0.lastSeq, since: $0.since.map(Output.time), message: $0.message)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(entries, forKey: .entries)
        // Always present, null when absent.
        try container.encode(head, forKey: .head)
        try container.encode(anchor, forKey: .anchor)
        try container.encode(anchorPath, forKey: .anchorPath)
        try container.encode(findings, forKey: .findings)
    }

    enum CodingKeys: String, CodingKey {
        case ok, entries, head, anchor, anchorPath, findings
    }
}

extension Events {
    /// The events every gate pushed to the hub (`--gate` for one), oldest first.
    func runHub() throws {
        if since != nil || csv { throw CLIError("--since and --csv are not available with --hub yet; use --limit and --json.") }
        let (gate, limit) = (gate, limit)
        let events = try global.withHubDirectory { hub in try await hub.events(gate: gate, limit: limit) }
        if json { return try Output.json(events.map(HubEventJSON.init)) }
        for hubEvent in events {
            let event = hubEvent.event
            let fields = [event.category, event.door, event.method, event.result, event.reason, event.residentID].compactMap { $0 }
            print(Output.safe("\(Output.time(event.time))  \(hubEvent.gate)#\(event.seq)  \(fields.joined(separator: "  "))"))
        }
    }
}
