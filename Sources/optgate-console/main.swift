import ArgumentParser
import Foundation
import GateConsole
import GateControl
import GateStore
import Hummingbird
import Logging

/// `optgate-console`: the manager's console in the browser (docs/console.md). Serves on loopback unless told
/// otherwise; on first run, prints a one-time setup token for the first administrator.
@main
struct OptgateConsole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optgate-console",
        abstract: "Serve the manager's console: residents, consent, visitors, doors and events in the browser.",
        version: "optgate-console \(OptgateVersion.string)")

    @Option(help: "State directory (default: $OPTGATE_STATE_DIR or /var/lib/optgate).") var stateDir: String?
    @Option(help: "Control socket of the running daemon (default: <state dir>/control.sock).") var socket: String?
    @Option(help: "Address to listen on. Anything but loopback needs TLS in front (docs/console.md).") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8443
    @Option(help: "Minutes a session may stay idle (1-1440).") var idleMinutes = 30

    func validate() throws {
        if !(1...65535).contains(port) { throw ValidationError("Please give --port from 1 to 65535.") }
        if !(1...1440).contains(idleMinutes) { throw ValidationError("Please give --idle-minutes from 1 to 1440.") }
    }

    func run() async throws {
        ProcessHygiene.restrictFileCreation()
        _ = ProcessHygiene.forbidCoreDumps()
        var logger = Logger(label: "optgate-console")
        logger.logLevel = .info
        let stateDirectory = stateDir ?? ProcessInfo.processInfo.environment["OPTGATE_STATE_DIR"] ?? "/var/lib/optgate"
        let socketPath = socket ?? ProcessInfo.processInfo.environment["OPTGATE_SOCKET"] ?? ControlSocket.defaultPath(stateDirectory: stateDirectory)
        let database = try GateDatabase(stateDirectory: stateDirectory)
        var settings = ConsoleSettings(stateDirectory: stateDirectory, socketPath: socketPath)
        settings.policy.idleTimeout = .seconds(idleMinutes * 60)
        let pages = try await ConsolePages()
        let routes = ConsoleRoutes(database: database, settings: settings, pages: pages, logger: logger)
        let displayHost = host.contains(":") ? "[\(host)]" : host
        if let token = try database.newConsoleSetupToken() {
            // Printed on the device only: whoever reads this console (or the journal) creates the first administrator.
            say("optgate-console: first-run setup at http://\(displayHost == "127.0.0.1" ? "localhost" : displayHost):\(port)/setup")
            say("setup token: \(token)")
        }
        say("optgate-console: listening on http://\(displayHost):\(port)")
        let app = Application(router: routes.router(), configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              logger: logger)
        try await app.runService()
    }
}

/// A line on standard output, written at once (not buffered: the setup token must reach a pipe or the journal now).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
