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
        @Option(help: "Version of the notice the resident read (optgate notice list); default and required: the newest in --language.")
        var noticeVersion: String?
        @Option(help: "Language of the notice shown: zh or en.") var language = "zh"
        @Option(help: "How consent was given: kiosk, paper or console.") var method: ConsentMethod = .console
        @Option(help: "Staff member who recorded it, recorded beside your Unix user.") var `operator`: String?
        @Option(help: "Doors covered, comma-separated: the face is matched only there (default: * for all). A new grant while consent is in force changes the scope, within a second at the gate.")
        var scope = "*"
        @Option(help: "Daemon configuration whose doors --scope must name (default: /etc/optgate/optgated.json when it exists, else the built-in defaults).")
        var config: String?
        @Option(help: "For a resident under 14: the guardian who consents on the child's behalf (PIPL art. 31).")
        var guardianName: String?
        @Option(help: "For a resident under 14: the guardian's relation to the child, e.g. mother, father, legal guardian.")
        var guardianRelation: String?
        @Option(help: "For a resident under 14: how the guardian consented, e.g. signed paper form, in person.")
        var guardianMethod: String?

        func validate() throws {
            try validateStaffName(self.operator)
            let given = [guardianName, guardianRelation, guardianMethod].compactMap { $0 }
            if !given.isEmpty && (given.count < 3 || given.contains { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw ValidationError("Please give all of --guardian-name, --guardian-relation and --guardian-method, or none.")
            }
        }

        func run() throws {
            // A door that does not exist is refused: it would cover nothing today and, once such a door is
            // added, a door the resident never chose.
            let path = config ?? (FileManager.default.fileExists(atPath: "/etc/optgate/optgated.json") ? "/etc/optgate/optgated.json" : nil)
            let doors = (try path.map { try DaemonConfiguration(contentsOf: $0) } ?? .defaults).doors.map(\.name)
            let scope = ConsentScope(self.scope)
            if let problem = scope.problem(knownDoors: doors) { throw CLIError("--scope \(self.scope): \(problem)") }
            if global.hubURL != nil {
                // The hub knows the shipped notice versions and no under-14 flag yet (docs/fleet.md): a child's
                // consent, with its guardian, is recorded at the gate's own store until the hub carries both.
                guard guardianName == nil else {
                    throw CLIError("A guardian's consent is not recorded at the hub yet: record it at the gate's own store (optgate consent grant without --hub).")
                }
                let notice = try NoticeLibrary.notice(version: noticeVersion ?? NoticeLibrary.versions.last ?? "1", language: language)
                let (id, method, op, doors) = (id, method.rawValue, recordedOperator(staff: self.operator), scope.doors)
                let ledgerID = try global.withHubDirectory { hub in
                    try await hub.grantConsent(residentID: id, noticeVersion: notice.version, noticeSHA256: notice.sha256,
                                               language: notice.language, method: method, operator: op, scope: doors)
                }
                return print(Output.safe("consent \(ledgerID) granted by \(id) at the hub: notice v\(notice.version) (\(notice.language)), method \(method), scope \(doors.joined(separator: ","))"))
            }
            let database = try global.database()
            // Consents made after a new notice version pin that version: an older one is refused.
            guard let active = try database.activeNotice(language: language) else {
                throw CLIError("There is no notice in language \(language) (optgate notice list).")
            }
            let notice = try database.notice(version: noticeVersion ?? active.version, language: language)
            if notice.version != active.version {
                throw CLIError("Notice v\(notice.version) (\(language)) has been superseded by v\(active.version): show the resident v\(active.version) (optgate notice show --version \(active.version)) and record that.")
            }
            let guardian = guardianName.map { GuardianConsent(name: $0, relation: guardianRelation ?? "", method: guardianMethod ?? "") }
            let record = try database.grantConsent(
                residentID: id, notice: notice, method: method, operator: recordedOperator(staff: self.operator),
                scope: scope.doors, guardian: guardian)
            print(Output.safe("consent \(record.id) granted by \(id): notice v\(record.noticeVersion) (\(record.language), sha256 \(record.noticeSHA256.prefix(12))…), method \(record.method.rawValue), scope \(record.scope.joined(separator: ","))\(record.guardian.map { ", by guardian (\($0.relation), \($0.method))" } ?? "")"))
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
                print(Output.safe("\(Output.time(record.time))  \(record.action.rawValue)  notice v\(record.noticeVersion)/\(record.language)  \(record.method.rawValue)  by \(record.operator)  scope \(record.scope.joined(separator: ","))\(record.guardian.map { "  guardian \($0.name) (\($0.relation), \($0.method))" } ?? "")"))
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
    var guardianName: String?
    var guardianRelation: String?
    var guardianMethod: String?

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
        guardianName = record.guardian?.name
        guardianRelation = record.guardian?.relation
        guardianMethod = record.guardian?.method
    }
}

struct NoticeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notice", abstract: "Show, list and add the face-recognition notices residents read before consenting.",
        subcommands: [Show.self, List.self, Add.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a notice version (default: the newest).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Notice version.") var version: String?
        @Option(help: "Language: zh, en or all.") var language = "all"

        func run() throws {
            let database = try global.database()
            let languages = language == "all" ? ["zh", "en"] : [language]
            for language in languages {
                guard let newest = try database.activeNotice(language: language) else { throw CLIError("no notice texts are installed in \(language)") }
                let notice = try database.notice(version: version ?? newest.version, language: language)
                print("--- notice v\(notice.version) (\(notice.language)), sha256 \(notice.sha256)")
                print(notice.text)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List notice versions: bundled and added, with their SHA-256; the newest per language is active.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let versions = try global.database().noticeVersions()
            if json { return try Output.json(versions.map(NoticeJSON.init)) }
            for info in versions {
                print(Output.safe("v\(info.version)  \(info.language)  \(info.source)\(info.addedAt.map { " \(Output.time($0))" } ?? "")  sha256 \(info.sha256)\(info.active ? "  active" : "")"))
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a notice version from a UTF-8 text file; kept with its SHA-256, never changed. New consents in its language pin it.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The new version, e.g. 2.") var version: String
        @Option(help: "Language: zh or en.") var language: String
        @Argument(help: "The notice text (UTF-8).") var file: String

        func validate() throws {
            guard ["zh", "en"].contains(language) else { throw ValidationError("Please give --language zh or en.") }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("Cannot read \(file).") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text.") }
            let info = try global.database().addNotice(Notice(version: version, language: language, text: text), operator: currentOperator)
            print("notice v\(info.version) (\(info.language)) added, sha256 \(info.sha256)\(info.active ? "; new consents in \(info.language) pin it" : "")")
        }
    }
}

struct NoticeJSON: Encodable {
    var version: String
    var language: String
    var sha256: String
    var source: String
    var addedAt: String?
    var active: Bool

    init(_ info: NoticeVersionInfo) {
        version = info.version
        language = info.language
        sha256 = info.sha256
        source = info.source
        addedAt = info.addedAt.map(Output.time)
        active = info.active
    }
}
