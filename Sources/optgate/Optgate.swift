import ArgumentParser
import Foundation
import GateControl

/// `optgate`: the property manager's admin CLI. A thin tree of nouns and verbs over the store and
/// the daemon's control socket.
@main
struct Optgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optgate",
        abstract: "Administer an optgate gate controller: residents, credentials, consent, events, doors.",
        discussion: """
            The state directory defaults to $OPTGATE_STATE_DIR, else /var/lib/optgate. Changes take effect in a \
            running optgated at once; commands that act on a door (door open, status, simulate) need the daemon.
            """,
        version: "optgate \(OptgateVersion.string)",
        subcommands: [
            Init.self, ResidentCommand.self, CardCommand.self, PinCommand.self, ConsentCommand.self,
            NoticeCommand.self, Events.self, AuditCommand.self, Export.self, DoorCommand.self, Status.self,
            ConfigCommand.self, Simulate.self, FaceCommand.self, ScheduleCommand.self, CalendarCommand.self, GroupCommand.self,
            VisitorCommand.self, ReaderCommand.self, ComplianceCommand.self, HubCommand.self, SiteCommand.self, GateCommand.self,
        ]
    )

    /// Accepts the global options before the subcommand too (`optgate --state-dir DIR status`):
    /// they are moved behind it, where every subcommand's `GlobalOptions` parses them.
    static func main() {
        // Before any file is created (optgate init, the first write): nothing world-readable. The CLI holds
        // the device key too, so it dumps no core either.
        ProcessHygiene.restrictFileCreation()
        ProcessHygiene.forbidCoreDumps()
        var arguments = Array(CommandLine.arguments.dropFirst())
        var globals: [String] = []
        while let first = arguments.first, first.hasPrefix("--state-dir") || first.hasPrefix("--socket") || first.hasPrefix("--hub") {
            globals.append(arguments.removeFirst())
            if !first.contains("="), !arguments.isEmpty { globals.append(arguments.removeFirst()) }
        }
        guard !globals.isEmpty else { return main(arguments) }
        // Insert after the deepest subcommand name given.
        var insertAt = 0
        var command: any ParsableCommand.Type = Optgate.self
        while insertAt < arguments.count,
              let sub = command.configuration.subcommands.first(where: { $0._commandName == arguments[insertAt] }) {
            command = sub
            insertAt += 1
        }
        arguments.insert(contentsOf: globals, at: insertAt)
        main(arguments)
    }
}
