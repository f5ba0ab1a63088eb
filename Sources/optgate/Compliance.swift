import ArgumentParser
import Foundation
import GateConfiguration
import GateControl
import GateCore
import GateStore

/// `optgate compliance`: the documents and numbers the rules ask of the property company (docs/compliance.md),
/// generated from the gate's own configuration and store.
struct ComplianceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance",
        abstract: "Impact assessment, gate sign, parity report, filing counter and an inspector's report, from this gate's own state.",
        subcommands: [PIA.self, Sign.self, Parity.self, Filing.self, Report.self])

    struct Common: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Option(help: "The daemon's configuration (default: /etc/optgate/optgated.json when it exists, else built-in defaults).")
        var config: String?
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, html, json
    }

    struct PIA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pia",
            abstract: "Draft the personal-information impact assessment (R13); its SHA-256 and time are recorded and kept at least 3 years.")
        @OptionGroup var common: Common
        @Option(help: "zh or en.") var language: Language = .zh
        @Option(help: "md, html or json.") var format: Format = .md
        @Option(help: "Write it to this file instead of standard output.") var out: String?

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(common.config)
            let database = try common.global.database()
            let assessment = try ImpactAssessment.build(configuration: configuration, database: database,
                                                        stateDirectory: common.global.stateDirectory, language: language)
            let text: String
            switch format {
            case .json: text = try jsonText(assessment)
            case .md: text = assessment.document.markdown
            case .html: text = assessment.document.html
            }
            let record = try database.recordAssessment(kind: "pia", language: language.rawValue, format: format.rawValue,
                                                       content: Data(text.utf8), operator: currentOperator)
            try emit(text, to: out)
            if out != nil || format != .json {
                FileHandle.standardError.write(Data("optgate: impact assessment \(record.id) recorded, sha256 \(record.sha256)\n".utf8))
            }
        }
    }

    struct Parity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per credential method: decisions, p50/p95 time from first input to decision, denial rate (R2).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "From this day (YYYY-MM-DD, from its start) or ISO 8601 time.") var since: String?
        @Option(help: "Until this day (YYYY-MM-DD, through its end) or ISO 8601 time.") var until: String?
        @Flag(help: "JSON output.") var json = false

        func validate() throws {
            if let since, CommandLineDate.parse(since, endOfDay: false) == nil {
                throw ValidationError("Please give --since as YYYY-MM-DD or an ISO 8601 date-time, from \(CommandLineDate.range).")
            }
            if let until, CommandLineDate.parse(until, endOfDay: true) == nil {
                throw ValidationError("Please give --until as YYYY-MM-DD or an ISO 8601 date-time, from \(CommandLineDate.range).")
            }
        }

        func run() throws {
            let report = try ParityReport.make(global.database(), since: since.flatMap { CommandLineDate.parse($0, endOfDay: false) },
                                               until: until.flatMap { CommandLineDate.parse($0, endOfDay: true) })
            if json { return try Output.json(report) }
            for line in report.lines { print(line) }
        }
    }

    struct Filing: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The filing counter (R14): people with face data, thresholds, and the 30-working-day deadline once reached.")
        @OptionGroup var common: Common
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(common.config)
            let status = try common.global.database().filingStatus(configuration.compliance.filingThresholds, zone: configuration.siteTimeZone)
            if json { return try Output.json(status) }
            print(status.summary)
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "For an inspector: the impact assessment, parity, filing counter, notices, assessment history and the audit check in one.")
        @OptionGroup var common: Common
        @Option(help: "zh or en.") var language: Language = .zh
        @Flag(help: "JSON output.") var json = false
        @Option(help: "Write it to this file instead of standard output.") var out: String?

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(common.config)
            let database = try common.global.database()
            let report = ComplianceReport(
                assessment: try ImpactAssessment.build(configuration: configuration, database: database,
                                                       stateDirectory: common.global.stateDirectory, language: language),
                parity: try ParityReport.make(database, since: nil, until: nil),
                assessments: try database.assessments().map(AssessmentJSON.init))
            let text = try json ? jsonText(report) : report.markdown(language)
            let record = try database.recordAssessment(kind: "report", language: language.rawValue, format: json ? "json" : "md",
                                                       content: Data(text.utf8), operator: currentOperator)
            try emit(text, to: out)
            if !report.assessment.auditVerify.intact {
                FileHandle.standardError.write(Data("optgate: the audit log does not verify: \(report.assessment.auditVerify.problem ?? "")\n".utf8))
            }
            if out != nil { print("report \(record.id) recorded, sha256 \(record.sha256)") }
        }
    }
}

extension Language: ExpressibleByArgument {}

func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}

func emit(_ text: String, to path: String?) throws {
    guard let path else { return print(text, terminator: "") }
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw CLIError("Cannot write \(path).") }
}

/// The parity report (R2).
struct ParityReport: Encodable {
    var since: String?
    var until: String?
    var methods: [ParityRow]

    static func make(_ database: GateDatabase, since: WallTime?, until: WallTime?) throws -> ParityReport {
        // --until is inclusive to the millisecond (the end of the day given).
        let decisions = try database.parityDecisions(since: since, until: until.map { $0.advanced(by: .milliseconds(1)) })
        return ParityReport(since: since.map(Output.time), until: until.map(Output.time), methods: ParityRow.rows(decisions))
    }

    var lines: [String] {
        var lines = ["method    decisions  granted  denied  denial rate  timed  p50 ms  p95 ms"]
        for row in methods {
            func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
            lines.append(pad(row.method, 10) + pad("\(row.decisions)", 11) + pad("\(row.granted)", 9) + pad("\(row.denied)", 8)
                         + pad(String(format: "%.1f %%", row.denialRate * 100), 13) + pad("\(row.timed)", 7)
                         + pad(row.p50Ms.map(String.init) ?? "-", 8) + (row.p95Ms.map(String.init) ?? "-"))
        }
        return lines
    }
}

struct AssessmentJSON: Encodable {
    var id: Int64
    var time: String
    var kind: String
    var language: String
    var format: String
    var sha256: String
    var `operator`: String

    init(_ record: AssessmentRecord) {
        (id, time, kind, language, format, sha256, self.operator) =
            (record.id, Output.time(record.time), record.kind, record.language, record.format, record.sha256, record.operator)
    }
}

/// `compliance report`: everything an inspector asks for, with the audit-verify result.
struct ComplianceReport: Encodable {
    var assessment: ImpactAssessment
    var parity: ParityReport
    var assessments: [AssessmentJSON]

    func markdown(_ l: Language) -> String {
        var doc = assessment.document
        doc.title = l.t("Compliance report", "合规报告") + " — " + doc.title
        doc.add(l.t("Parity of credential methods (R2)", "各通行方式对等性（R2）"), .table(
            header: [l.t("method", "方式"), l.t("decisions", "次数"), l.t("denial rate", "拒绝率"), "p50 ms", "p95 ms"],
            rows: parity.methods.map { [$0.method, "\($0.decisions)", String(format: "%.1f %%", $0.denialRate * 100),
                                        $0.p50Ms.map(String.init) ?? "-", $0.p95Ms.map(String.init) ?? "-"] }))
        doc.add(l.t("Impact assessments generated (kept ≥ 3 years)", "已生成的影响评估（保存 ≥ 3 年）"), .table(
            header: [l.t("id", "编号"), l.t("time", "时间"), l.t("kind", "类别"), l.t("language", "语言"), "sha256"],
            rows: assessments.map { ["\($0.id)", $0.time, $0.kind, $0.language, $0.sha256] }))
        return doc.markdown
    }
}
