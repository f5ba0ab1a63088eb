import ArgumentParser
import Foundation
import GateControl
import GateCore
import GateConfiguration

struct DoorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "door", abstract: "Act on a door through the running daemon; set its passage schedule.",
        subcommands: [Open.self, Lockdown.self, Passage.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a door for one pulse; recorded with your Unix user.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Door name (default: the first door).") var door: String?
        @Option(help: "A note recorded beside your Unix user, e.g. why.") var note: String?

        func run() throws {
            let response = try global.send(ControlRequest(command: .openDoor, door: door, operatorNote: note))
            if let decision = response.decision, decision.result != .granted {
                throw CLIError("the door was not opened (\(decision.reason.rawValue))")
            }
            print("opened: \(Output.safe(response.message ?? "door released"))")
        }
    }

    struct Lockdown: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lock a door down, or lift it: cards, PINs, faces and remote opens are refused until it is lifted; fire still releases.",
            usage: "optgate door lockdown (<door>|--all) (on|off)")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Every door.") var all = false
        @Argument(help: "The door (unless --all), then on or off.") var words: [String] = []

        var door: String? { all ? nil : words.first }
        var state: String? { words.last }

        func validate() throws {
            guard words.count == (all ? 1 : 2) else { throw ValidationError("Please name one door, or pass --all, then on or off.") }
            guard state == "on" || state == "off" else { throw ValidationError("Please end with on or off.") }
        }

        func run() throws {
            let response = try global.send(ControlRequest(command: .lockdown, door: all ? nil : door, active: state == "on"))
            print("lockdown \(state ?? ""): \(Output.safe(response.message ?? ""))")
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon, its doors and counts.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        guard let status = try global.send(ControlRequest(command: .status)).status else {
            throw CLIError("optgated sent no status")
        }
        if json { return try Output.json(status) }
        print("optgated \(status.version), pid \(status.pid), up since \(Output.time(status.startedAt))\(status.simulated ? ", simulated hardware" : "")")
        let face = status.face
        print("face entry: \(Output.safe(face.state.rawValue))\(face.embedder.map { ", \($0), \(face.templates) template(s)" } ?? "")\(face.needingReenrolment > 0 ? ", \(face.needingReenrolment) need re-enrolment" : ""); frames \(face.framesProcessed), skipped \(face.framesSkipped), decisions \(face.decisions)\(face.state == .degraded ? "; the last \(face.skippedInARow) frames were all skipped (\(Output.safe(face.lastSkipReason ?? "unknown")))" : "")")
        for door in status.doors {
            let alarms = door.alarms.isEmpty ? "none" : door.alarms.map(\.rawValue).joined(separator: ",")
            print("door \(Output.safe(door.name)): \(door.lock), relay \(door.relayEnergized ? "energised" : "off"), contact \(door.contact), alarms \(alarms), methods \(door.methods.map(\.rawValue).joined(separator: ","))\(door.keypadLockedOut ? ", keypad locked out" : "")\(door.liveness.map { "; face liveness \($0.summary)" } ?? "")")
        }
        for service in status.services ?? [] where service.state != "running" || service.restarts > 0 {
            let retry = service.nextAttempt.map { ", next attempt \(Output.time($0))" } ?? ""
            print(Output.safe("service \(service.name): \(service.state), \(service.restarts) restart(s)\(retry)\(service.reason.map { ": \($0)" } ?? "")"))
        }
        for warning in status.warnings ?? [] { print(Output.safe("WARNING \(warning)")) }
        if let storage = status.storage, storage.state != "ok" {
            print(Output.safe("ALARM audit log not writable since \(storage.since.map(Output.time) ?? "?"): \(storage.reason ?? "unknown error"); decisions go on, \(storage.pendingEntries) entries waiting in memory, \(storage.droppedEntries) lost"))
        }
        if let filing = status.filing { print(filing.summary) }
        print((status.counts?.named ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a daemon configuration file.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Configuration file.") var file: String
        @Option(help: "Assume this many PIN holders (one per unit) for the guessing budget instead of counting the database's.")
        var residents: Int?

        func run() throws {
            let configuration: DaemonConfiguration
            do {
                configuration = try DaemonConfiguration(contentsOf: file)
                print(Output.safe("ok: \(configuration.doors.count) door(s): \(configuration.doors.map(\.name).joined(separator: ", "))"))
                for warning in ReaderConfiguration.securityWarnings(configuration.readers) { print(Output.safe("WARNING \(warning)")) }
                if let fleet = configuration.fleet {
                    print(Output.safe("fleet: gate \(fleet.gate) of site \(fleet.site), hub \(fleet.hub), credentials \(fleet.credentialsFile), stale after \(fleet.staleAfter.components.seconds) s"))
                }
            } catch {
                print(Output.safe("\(file): \(error)"))
                throw ExitCode(1)
            }
            let report = GuessingBudgetReport(configuration: configuration, stateDirectory: global.stateDirectory, assumedHolders: residents)
            for line in report.lines { print(line) }
            if configuration.doors.contains(where: { $0.name == configuration.face.door && $0.methods.contains(.face) }) {
                print(Output.safe(configuration.face.liveness.summary(door: configuration.face.door)))
            }
        }
    }
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inject inputs into a daemon running with --simulate.",
        subcommands: [Card.self, Pin.self, Keys.self, Rex.self, Contact.self, Fire.self, Tamper.self, Stall.self, SimulateQR.self])

    struct Target: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Option(help: "Door name (default: the first door).") var door: String?

        func send(_ input: SimulatedInput) throws {
            let response = try global.send(ControlRequest(command: .simulate, door: door, input: input))
            if let decision = response.decision {
                print("\(decision.result.rawValue) (\(decision.reason.rawValue))\(decision.resident.map { " resident \($0)" } ?? "")")
            } else {
                print(Output.safe(response.message ?? "ok"))
            }
        }
    }

    struct Card: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Present a card.")
        @OptionGroup var target: Target
        @Option(help: "Card UID in hex.") var uid: String
        func run() throws { try target.send(.card(uid: uid)) }
    }

    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Type digits and # on the keypad (with --unit: the unit code, #, the digits, #).")
        @OptionGroup var target: Target
        @Option(help: "Unit code typed first, then #, for unit + PIN keypads.") var unit: String?
        @Argument(help: "Digits.") var digits: String
        func run() throws {
            if let unit {
                guard !unit.isEmpty, unit.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw CLIError("a unit code is digits only") }
                return try target.send(.keys("\(unit)#\(digits)#"))
            }
            try target.send(.pin(digits: digits))
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Press raw keypad keys (0-9, #, *).")
        @OptionGroup var target: Target
        @Argument(help: "Keys.") var keys: String
        func run() throws { try target.send(.keys(keys)) }
    }

    struct Rex: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Press the request-to-exit button.")
        @OptionGroup var target: Target
        func run() throws { try target.send(.rex) }
    }

    enum ContactState: String, ExpressibleByArgument, CaseIterable { case open, closed }
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    struct Contact: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the door contact.")
        @OptionGroup var target: Target
        @Argument(help: "open or closed.") var state: ContactState
        func run() throws { try target.send(.contact(open: state == .open)) }
    }

    struct Fire: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the fire-alarm input (all doors).")
        @OptionGroup var target: Target
        @Argument(help: "on or off.") var state: Switch
        func run() throws { try target.send(.fire(active: state == .on)) }
    }

    struct Tamper: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trigger the tamper input.")
        @OptionGroup var target: Target
        func run() throws { try target.send(.tamper) }
    }

    struct Stall: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold the decision loop for some seconds, as a hung decision would (tests the systemd watchdog).")
        @OptionGroup var target: Target
        @Argument(help: "Seconds (0–600).") var seconds: Double
        func run() throws { try target.send(.stall(seconds: seconds)) }
    }
}
