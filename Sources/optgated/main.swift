public import ArgumentParser
import Foundation
import GateControl
import GateCore
import GateServices
import GateStore
public import Logging
import ServiceLifecycle
import UnixSignals

/// `optgated`: the gate daemon. Parses flags, reads configuration, opens the store and the doors,
/// then runs the services until SIGTERM/SIGINT.
@main
struct Optgated: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optgated",
        abstract: "The optgate gate controller daemon.",
        discussion: "Configuration keys are documented in docs/configuration.md.",
        version: OptgateVersion.string
    )

    @Option(help: "State directory holding the database and the device key (default: $OPTGATE_STATE_DIR or /var/lib/optgate).")
    var stateDir: String?

    @Option(help: "Configuration file (JSON). Default: /etc/optgate/optgated.json when it exists, else built-in defaults.")
    var config: String?

    @Flag(help: "Use simulated door hardware and accept injected inputs (optgate simulate).")
    var simulate = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "optgated")
        let stateDirectory = stateDir ?? ProcessInfo.processInfo.environment["OPTGATE_STATE_DIR"] ?? "/var/lib/optgate"

        let configuration: DaemonConfiguration
        do {
            configuration = try loadConfiguration()
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let database: GateDatabase
        do {
            database = try GateDatabase(stateDirectory: stateDirectory)
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(73)
        }
        if !simulate {
            logger.warning("no hardware back-end is configured yet: doors are simulated", metadata: [:])
        }
        var relays: [String: any Relay] = [:]
        for door in configuration.doors { relays[door.name] = SimulatedRelay() }

        let gate = GateService(configuration: configuration, database: database, relays: relays, clock: ContinuousClock(),
                               logger: logger, simulated: true)
        let socketPath = configuration.controlSocketPath ?? ControlSocket.defaultPath(stateDirectory: stateDirectory)
        let control: ControlService<ContinuousClock>
        do {
            control = try ControlService(path: socketPath, group: configuration.controlGroup, gate: gate,
                                         simulated: true, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(69)
        }
        logger.info("optgated starting", metadata: ["state.dir": "\(stateDirectory)", "control.socket": "\(socketPath)",
                                                    "version": "\(OptgateVersion.string)"])
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: gate), .init(service: control)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("optgated stopped")
    }

    func loadConfiguration() throws -> DaemonConfiguration {
        if let config { return try DaemonConfiguration(contentsOf: config) }
        let standard = "/etc/optgate/optgated.json"
        if !simulate, FileManager.default.fileExists(atPath: standard) { return try DaemonConfiguration(contentsOf: standard) }
        return .defaults
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
