import ArgumentParser
import FaceVision
import Foundation
import GateControl
import GateCore
import GateConfiguration
import GateHub
import GateStore

/// `optgate visitor issue|revoke|list` (docs/visitors.md).
struct VisitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visitor",
        abstract: "Issue, revoke and list visitor passes (a one-off keypad code and a signed QR code).",
        subcommands: [Issue.self, Revoke.self, List.self]
    )

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a visitor pass; prints its keypad code once (only a keyed hash of it is stored).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A door the pass opens (repeat for several).") var door: [String]
        @Option(help: "How long the pass is valid from now: 90s, 30m, 4h, 2d (at most 90d).") var validFor: String
        @Option(help: "How many entries (1-1000).") var uses = 1
        @Option(help: "Who the pass is for, as shown in visitor list.") var name: String?
        @Option(help: "With --hub: the site whose gates the pass opens (needed when the hub has several).") var site: String?
        @Option(help: "Also write the pass's QR code to this PNG file.") var qr: String?
        @Option(help: "The daemon's configuration, to check the door names (default: not checked).") var config: String?
        @Flag(help: "JSON output: {\"id\",\"code\",\"qr\",\"validUntil\",\"uses\"}.") var json = false

        func validate() throws {
            if door.isEmpty { throw ValidationError("Please give at least one --door.") }
            if VisitorDuration.parse(validFor) == nil {
                throw ValidationError("Please give --valid-for as a number and a unit, such as 90s, 30m, 4h or 2d.")
            }
            if !(1...1000).contains(uses) { throw ValidationError("Please give --uses from 1 to 1000.") }
            if let name, name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 100 || DisplayText.terminal(name) != name {
                throw ValidationError("Please give --name as 1 to 100 characters without control characters.")
            }
        }

        func run() throws {
            if let config {
                let known = try DaemonConfiguration.forCLI(config).doors.map(\.name)
                for name in door where !known.contains(name) {
                    throw CLIError("no door is named \(name) in \(config) (doors: \(known.joined(separator: ", ")))")
                }
            }
            let issued: IssuedVisitorPass
            if global.hubURL != nil {
                // At the hub: valid at every gate of the site, signed with the site's key (docs/fleet.md#visitor-passes).
                let (doors, validity, uses, name, site, op) = (door, VisitorDuration.parse(validFor)!, uses, name, site, currentOperator)
                issued = try global.withHubDirectory { hub in
                    try await hub.issueVisitorPass(doors: doors, validFor: validity, uses: uses, name: name, site: site, operator: op)
                }
            } else {
                if site != nil { throw CLIError("--site needs --hub: a single box issues passes for itself.") }
                issued = try global.database().issueVisitorPass(doors: door, validFor: VisitorDuration.parse(validFor)!, uses: uses,
                                                                name: name, operator: currentOperator)
            }
            if let qr { try QRCodeImage.writePNG(issued.qr, to: qr) }
            if json {
                return try Output.json(IssuedJSON(id: issued.pass.id, code: issued.code, qr: issued.qr,
                                                  validUntil: Output.time(issued.pass.validUntil), uses: issued.pass.usesTotal))
            }
            print("visitor pass \(issued.pass.id): door \(issued.pass.doors.joined(separator: ", ")), \(uses) use(s), valid until \(Output.time(issued.pass.validUntil))")
            print("code \(issued.code) (shown only now): at the keypad type \(issued.code)#, or \(VisitorKeypad.unitCode)#\(issued.code)# on unit + PIN keypads")
            if let qr { print("QR code written to \(Output.safe(qr))") }
        }
    }

    struct IssuedJSON: Encodable {
        var id: String
        var code: String
        var qr: String
        var validUntil: String
        var uses: Int
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a visitor pass: its code and QR stop opening at once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Pass id (v…).") var id: String

        func run() throws {
            if global.hubURL != nil {
                let (id, op) = (id, currentOperator)
                try global.withHubDirectory { hub in try await hub.revokeVisitorPass(id: id, operator: op) }
                return print("visitor pass \(Output.safe(id)) revoked at the hub; each gate refuses it when the change arrives")
            }
            try global.database().revokeVisitorPass(id: id, operator: currentOperator)
            print("visitor pass \(Output.safe(id)) revoked")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List visitor passes (never their codes).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let passes = global.hubURL != nil ? try global.withHubDirectory { hub in try await hub.visitorPasses() }
                                              : try global.database().visitorPasses()
            let now = WallTime.current()
            if json { return try Output.json(passes.map { PassJSON($0, now: now) }) }
            for pass in passes {
                let entry = PassJSON(pass, now: now)
                print(Output.safe("\(pass.id) \(entry.state) door \(pass.doors.joined(separator: ",")) uses \(pass.usesLeft)/\(pass.usesTotal) until \(entry.validUntil)\(pass.name.map { " \($0)" } ?? "")"))
            }
        }
    }

    struct PassJSON: Encodable {
        var id: String
        var name: String?
        var doors: [String]
        var validFrom: String
        var validUntil: String
        var usesTotal: Int
        var usesLeft: Int
        var revokedAt: String?
        /// `valid`, `passRevoked`, `notYetValid`, `expired` or `passUsedUp`.
        var state: String

        init(_ pass: VisitorPass, now: WallTime) {
            id = pass.id
            name = pass.name
            doors = pass.doors
            validFrom = Output.time(pass.validFrom)
            validUntil = Output.time(pass.validUntil)
            usesTotal = pass.usesTotal
            usesLeft = pass.usesLeft
            revokedAt = pass.revokedAt.map(Output.time)
            let refusal = pass.doors.first.flatMap { pass.refusal(at: $0, wall: now) }
            state = refusal?.rawValue ?? "valid"
        }
    }
}

/// `--valid-for`: a positive whole number and one unit (s, m, h, d).
enum VisitorDuration {
    static func parse(_ text: String) -> Duration? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0, number <= 1_000_000,
              text.dropLast().allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = number
        case "m": seconds = number * 60
        case "h": seconds = number * 3600
        case "d": seconds = number * 86_400
        default: return nil
        }
        return .seconds(seconds)
    }
}

/// `optgate simulate qr FILE.png | --payload TEXT`: what the door's camera would read.
struct SimulateQR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qr",
        abstract: "Show a visitor pass's QR code to a simulated door's camera (a PNG, decoded as the camera would, or its text).")
    @OptionGroup var target: Simulate.Target
    @Argument(help: "PNG image of the QR code.") var file: String?
    @Option(help: "The QR code's text instead of an image.") var payload: String?

    func validate() throws {
        if (file == nil) == (payload == nil) { throw ValidationError("Please give either a PNG file or --payload TEXT.") }
    }

    func run() throws {
        var text = payload
        if let file {
            let image: BGRImage
            do {
                image = try QRCodeImage.readPNG(file)
            } catch {
                throw CLIError("\(file): \(error)")
            }
            guard let read = try QRCodeReader().read(image) else { throw CLIError("no QR code could be read in \(file)") }
            text = read
        }
        try target.send(.qr(payload: text!))
    }
}
