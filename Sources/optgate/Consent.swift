import ArgumentParser
import Foundation
import GateCore
import GateConfiguration
import GateStore
import GateHub

struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record, withdraw and show face-recognition consent (separate from every other agreement).",
        subcommands: [Grant.self, Withdraw.self, Show.self]
    )

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a resident's explicit consent to face recognition, pinned to the notice they were shown.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Option(help: "Version of the notice the resident read (optgate notice show).") var noticeVersion: String
        @Option(help: "Language of the notice shown: zh or en.") var language = "zh"
        @Option(help: "How consent was given: kiosk, paper or console.") var method: ConsentMethod = .console
        @Option(help: "Staff member who recorded it, recorded beside your Unix user.") var `operator`: String?
        @Option(help: "Doors covered, comma-separated: the face is matched only there (default: * for all). A new grant while consent is in force changes the scope, within a second at the gate.")
        var scope = "*"
        @Option(help: "Daemon configuration whose doors --scope must name (default: /etc/optgate/optgated.json when it exists, else the built-in defaults).")
        var config: String?

        func validate() throws { try validateStaffName(self.operator) }

        func run() throws {
            // A door that does not exist is refused: it would cover nothing today and, once such a door is
            // added, a door the resident never chose.
            let path = config ?? (FileManager.default.fileExists(atPath: "/etc/optgate/optgated.json") ? "/etc/optgate/optgated.json" : nil)
            let doors = (try path.map { try DaemonConfiguration(contentsOf: $0) } ?? .defaults).doors.map(\.name)
            let scope = ConsentScope(self.scope)
            if let problem = scope.problem(knownDoors: doors) { throw CLIError("--scope \(self.scope): \(problem)") }
            let notice = try NoticeLibrary.notice(version: noticeVersion, language: language)
            if global.hubURL != nil {
                let (id, method, op, doors) = (id, method.rawValue, recordedOperator(staff: self.operator), scope.doors)
                let ledgerID = try global.withHubDirectory { hub in
                    try await hub.grantConsent(residentID: id, noticeVersion: notice.version, noticeSHA256: notice.sha256,
                                               language: notice.language, method: method, operator: op, scope: doors)
                }
                return print(Output.safe("consent \(ledgerID) granted by \(id) at the hub: notice v\(notice.version) (\(notice.language)), method \(method), scope \(doors.joined(separator: ","))"))
            }
            let record = try global.database().grantConsent(
                residentID: id, notice: notice, method: method, operator: recordedOperator(staff: self.operator),
                scope: scope.doors)
            print(Output.safe("consent \(record.id) granted by \(id): notice v\(record.noticeVersion) (\(record.language), sha256 \(record.noticeSHA256.prefix(12))…), method \(record.method.rawValue), scope \(record.scope.joined(separator: ","))"))
        }
    }

    struct Withdraw: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw consent: face templates are deleted at once; cards and PIN keep working.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Option(help: "How the withdrawal was requested: kiosk, paper or console.") var method: ConsentMethod = .console
        @Option(help: "Staff member who recorded it, recorded beside your Unix user.") var `operator`: String?

        func validate() throws { try validateStaffName(self.operator) }

        func run() throws {
            if global.hubURL != nil {
                let (id, method, op) = (id, method.rawValue, recordedOperator(staff: self.operator))
                let ledgerID = try global.withHubDirectory { hub in try await hub.withdrawConsent(residentID: id, method: method, operator: op) }
                return print("consent withdrawn by \(id) at the hub (ledger entry \(ledgerID)); each gate deletes its face templates and acknowledges")
            }
            let (record, deleted) = try global.database().withdrawConsent(
                residentID: id, method: method, operator: recordedOperator(staff: self.operator))
            print("consent withdrawn by \(id) (ledger entry \(record.id)); \(deleted) face template(s) deleted")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a resident's consent history.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let history = try global.database().consentHistory(residentID: id)
            if json { return try Output.json(history.map(ConsentJSON.init)) }
            if history.isEmpty { print("no consent recorded for \(id)") }
            for record in history {
                print(Output.safe("\(Output.time(record.time))  \(record.action.rawValue)  notice v\(record.noticeVersion)/\(record.language)  \(record.method.rawValue)  by \(record.operator)  scope \(record.scope.joined(separator: ","))"))
            }
        }
    }
}

struct ConsentJSON: Encodable {
    var id: Int64
    var resident: String
    var action: String
    var time: String
    var noticeVersion: String
    var noticeSHA256: String
    var language: String
    var method: String
    var `operator`: String
    var scope: [String]
    var device: String

    init(_ record: ConsentRecord) {
        id = record.id
        resident = record.residentID
        action = record.action.rawValue
        time = Output.time(record.time)
        noticeVersion = record.noticeVersion
        noticeSHA256 = record.noticeSHA256
        language = record.language
        method = record.method.rawValue
        self.operator = record.operator
        scope = record.scope
        device = record.device
    }
}

struct NoticeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notice", abstract: "Show the face-recognition notice residents read before consenting.",
        subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a notice version (default: the newest).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Notice version.") var version: String?
        @Option(help: "Language: zh, en or all.") var language = "all"

        func run() throws {
            guard let version = version ?? NoticeLibrary.versions.last else { throw CLIError("no notice texts are installed") }
            let languages = language == "all" ? ["zh", "en"] : [language]
            for language in languages {
                let notice = try NoticeLibrary.notice(version: version, language: language)
                print("--- notice v\(notice.version) (\(notice.language)), sha256 \(notice.sha256)")
                print(notice.text)
            }
        }
    }
}
