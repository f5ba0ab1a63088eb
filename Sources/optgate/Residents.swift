import ArgumentParser
import Foundation
import GateCore
import GateConfiguration
import GateStore
import GateHub

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the state directory, device key and database.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let database = try global.database()
        print("initialised \(database.databasePath)")
        print("device key: \(global.stateDirectory)/keys/master.key (back it up separately: templates cannot be read without it)")
    }
}

/// A resident as `--json` prints it (docs/cli.md).
struct ResidentJSON: Encodable {
    var id: String
    var name: String
    var unit: String
    var validUntil: String?
    var createdAt: String
    var cards: [String]
    var pin: Bool
    var faceTemplates: Int
    var faceConsent: Bool
    var under14: Bool

    init(_ resident: Resident) {
        id = resident.id
        name = resident.displayName
        unit = resident.unit
        validUntil = resident.validUntil.map(Output.time)
        createdAt = Output.time(resident.createdAt)
        cards = resident.cards.map { "…\($0)" }
        pin = resident.hasPIN
        faceTemplates = resident.faceTemplates
        faceConsent = resident.faceConsent
        under14 = resident.under14
    }
}

struct ResidentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resident",
        abstract: "Add, list, show and erase residents.",
        subcommands: [Add.self, Update.self, List.self, Show.self, Erase.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a resident; prints only the new id.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Name as shown to staff.") var name: String
        @Option(help: "Unit, e.g. 3-2-1501.") var unit: String
        @Option(help: "Last day of access (YYYY-MM-DD, through the end of that day) or an ISO 8601 time.")
        var validUntil: String?
        @Flag(name: .customLong("under-14"), help: "The resident is a child under 14: face consent needs a guardian's (consent grant --guardian-name, --guardian-relation, --guardian-method).")
        var under14 = false
        @Option(help: "With --hub: the site the resident belongs to (needed when the hub has several).")
        var site: String?

        func validate() throws {
            if site != nil, global.hubURL == nil { throw ValidationError("--site needs --hub: a single box has no sites.") }
            if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("Please give a name.") }
            if unit.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("Please give a unit.") }
            if let validUntil, parseDate(validUntil) == nil {
                throw ValidationError("Please give --valid-until as a real date YYYY-MM-DD or an ISO 8601 date-time, from \(CommandLineDate.range).")
            }
        }

        func run() throws {
            if global.hubURL != nil {
                let (name, unit, site, until) = (name, unit, site, validUntil.flatMap(parseDate))
                return print(try global.withHubDirectory { hub in
                    try await hub.addResident(name: name, unit: unit, validUntil: until, site: site, operator: currentOperator)
                })
            }
            let id = try global.database().addResident(name: name, unit: unit, validUntil: validUntil.flatMap(parseDate),
                                                       under14: under14, operator: currentOperator)
            print(id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List residents.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            if global.hubURL != nil { return try listHub() }
            let residents = try global.database().residents()
            if json { return try Output.json(residents.map(ResidentJSON.init)) }
            for resident in residents {
                let credentials = [resident.cards.isEmpty ? nil : "cards \(resident.cards.map { "…\($0)" }.joined(separator: ","))",
                                   resident.hasPIN ? "PIN" : nil,
                                   resident.faceTemplates > 0 ? "face ×\(resident.faceTemplates)" : nil].compactMap { $0 }
                print(Output.safe("\(resident.id)  \(resident.unit)  \(resident.displayName)  \(credentials.joined(separator: "; "))"))
            }
        }

        /// The hub's residents: no face templates there (they stay on each gate box).
        func listHub() throws {
            let residents = try global.withHubDirectory { hub in try await hub.residents() }
            if json { return try Output.json(residents.map(HubResidentJSON.init)) }
            for resident in residents {
                let credentials = [resident.cards.isEmpty ? nil : "cards \(resident.cards.map { "…\($0)" }.joined(separator: ","))",
                                   resident.hasPIN ? "PIN" : nil, resident.faceConsent ? "face consent" : nil].compactMap { $0 }
                print(Output.safe("\(resident.id)  \(resident.site ?? "")  \(resident.unit)  \(resident.displayName)  \(credentials.joined(separator: "; "))"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one resident.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let resident = try global.database().resident(id)
            if json { return try Output.json(ResidentJSON(resident)) }
            print("id:            \(resident.id)")
            print("name:          \(Output.safe(resident.displayName))")
            print("unit:          \(Output.safe(resident.unit))")
            let access = try global.database().residentAccess(id)
            print("valid from:    \(access.validFrom.map(Output.time) ?? "always")")
            print("valid until:   \(resident.validUntil.map(Output.time) ?? "open-ended")")
            print(Output.safe("groups:        \(access.groups.isEmpty ? "default (all doors, always)" : access.groups.joined(separator: ", "))"))
            print("cards:         \(resident.cards.isEmpty ? "none" : resident.cards.map { "…\($0)" }.joined(separator: ", "))")
            print("PIN:           \(resident.hasPIN ? "set" : "not set")")
            print("face consent:  \(resident.faceConsent ? "active" : "none")")
            if resident.under14 { print("under 14:      yes (face consent needs a guardian's)") }
            print("face templates: \(resident.faceTemplates)")
        }
    }

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a resident and all their personal data; prints a deletion receipt.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String

        func run() throws {
            if global.hubURL != nil {
                let id = id
                let receipt = try global.withHubDirectory { hub in try await hub.eraseResident(id, operator: currentOperator) }
                print("erased \(id) at the hub: profile, cards, PIN and consent records deleted; each gate deletes its copy and face templates")
                return print(receipt)
            }
            let receipt = try global.database().eraseResident(id, operator: currentOperator)
            print("erased \(id): profile, cards, PIN, consent records and face templates deleted; \(receipt.blankedEntries) log entries blanked")
            print("receipt: audit entry \(receipt.auditSeq), token \(receipt.token)")
        }
    }
}

struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card", abstract: "Enrol and remove cards.", subcommands: [Add.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enrol a card for a resident.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Option(help: "Card UID in hex (4–10 bytes).") var uid: String

        func validate() throws {
            if CardUID(uid) == nil { throw ValidationError("Please give --uid as 4 to 10 bytes of hex, e.g. 04A1B2C3.") }
        }

        func run() throws {
            let uid = CardUID(uid)!
            if global.hubURL != nil {
                let id = id
                try global.withHubDirectory { hub in try await hub.addCard(residentID: id, uid: uid, operator: currentOperator) }
                return print("card \(uid) enrolled for \(id) at the hub")
            }
            try global.database().addCard(residentID: id, uid: uid, operator: currentOperator)
            print("card \(uid) enrolled for \(id)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a resident's card.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String
        @Option(help: "Card UID in hex.") var uid: String

        func validate() throws {
            if CardUID(uid) == nil { throw ValidationError("Please give --uid as 4 to 10 bytes of hex, e.g. 04A1B2C3.") }
        }

        func run() throws {
            let uid = CardUID(uid)!
            if global.hubURL != nil {
                let id = id
                try global.withHubDirectory { hub in try await hub.removeCard(residentID: id, uid: uid, operator: currentOperator) }
                return print("card \(uid) removed from \(id) at the hub")
            }
            try global.database().removeCard(residentID: id, uid: uid, operator: currentOperator)
            print("card \(uid) removed from \(id)")
        }
    }
}

struct PinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin", abstract: "Set and clear PINs.", subcommands: [Set.self, Clear.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a resident's PIN, read from standard input (never from the command line).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String

        @Option(help: "The daemon's configuration, for its PIN rules and keypad mode (default: /etc/optgate/optgated.json when it exists, else built-in defaults).")
        var config: String?
        @Flag(help: "Set the resident's duress PIN instead: it opens like the PIN and raises a silent duress alarm.")
        var duress = false

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(config)
            let strength = configuration.pinStrength
            let pin = try PINInput.read(prompt: "\(duress ? "Duress PIN" : "PIN") (\(strength.minimumDigits)–\(strength.maximumDigits) digits): ")
            if duress {
                try global.database().setDuressPIN(residentID: id, pin: pin, strength: strength,
                                                   lookupTag: configuration.pinEntry.mode == .pin, operator: currentOperator)
                print("duress PIN set for \(id)")
                return
            }
            if global.hubURL != nil {
                if duress { throw CLIError("Duress PINs are not replicated by the hub yet; set them at each gate.") }
                let (id, lookupTag) = (id, configuration.pinEntry.mode == .pin)
                if let weakness = strength.weakness(of: pin, unitCode: nil) { throw CLIError("\(weakness)") }
                try global.withHubDirectory { hub in
                    try await hub.setPIN(residentID: id, pin: pin, lookupTag: lookupTag, operator: currentOperator)
                }
                return print("PIN set for \(id) at the hub")
            }
            // Unit + PIN keypads check one household's slow hashes and need no lookup tag; without one, a
            // stolen database and key cannot test PINs at HMAC speed.
            try global.database().setPIN(residentID: id, pin: pin, strength: strength,
                                         lookupTag: configuration.pinEntry.mode == .pin, operator: currentOperator)
            print("PIN set for \(id)")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a resident's PIN.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String

        func run() throws {
            try global.database().clearPIN(residentID: id, operator: currentOperator)
            print("PIN cleared for \(id)")
        }
    }
}

/// A hub resident as `--hub URL resident list --json` prints it.
struct HubResidentJSON: Encodable {
    var id: String
    var site: String?
    var name: String
    var unit: String
    var validUntil: String?
    var cards: [String]
    var pin: Bool
    var faceConsent: Bool

    init(_ resident: DirectoryResident) {
        id = resident.id
        site = resident.site
        name = resident.displayName
        unit = resident.unit
        validUntil = resident.validUntil.map(Output.time)
        cards = resident.cards.map { "…\($0)" }
        pin = resident.hasPIN
        faceConsent = resident.faceConsent
    }
}
