import ArgumentParser
import Foundation
import GateConsole
import GateControl
import GateHub
import GateStore
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL

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
    @Option(help: "Address to listen on. Anything but loopback is served with TLS only (docs/console.md#tls).") var host = "127.0.0.1"
    @Flag(inversion: .prefixedNo, help: "Serve HTTPS with the device's own CA (default: on for any address but loopback; --no-tls is refused there).")
    var tls: Bool?
    @Option(help: "Where the console keeps its CA and server certificate (default: <state dir>/console-tls).") var tlsDir: String?
    @Option(help: "Port to listen on.") var port = 8443
    @Option(help: "Minutes a session may stay idle (1-1440).") var idleMinutes = 30
    @Option(help: "The daemon's configuration, for the compliance page's thresholds and time zone (default: /etc/optgate/optgated.json when it exists).")
    var config: String?
    @Option(help: "Manage a fleet hub, postgresql://[USER[:PASSWORD]@]HOST:PORT/DATABASE (default: $OPTGATE_HUB), instead of this box's store. Console users stay in the state directory.")
    var hub: String?

    func validate() throws {
        if !(1...65535).contains(port) { throw ValidationError("Please give --port from 1 to 65535.") }
        if !(1...1440).contains(idleMinutes) { throw ValidationError("Please give --idle-minutes from 1 to 1440.") }
        if tls == false, !IPAddressText.isLoopback(host) {
            throw ValidationError("Refusing to serve \(host) without TLS: sessions and passwords would cross the LAN in clear text. Drop --no-tls (the console makes its own CA) or listen on 127.0.0.1.")
        }
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
        settings.daemonConfigurationPath = config
        let useTLS = tls ?? !IPAddressText.isLoopback(host)
        var certificates: ConsoleTLS?
        if useTLS {
            let directory = tlsDir ?? "\(stateDirectory)/console-tls"
            let prepared = try ConsoleTLS.prepare(directory: directory, names: ConsoleTLS.names(forHost: host))
            settings.caCertificatePEM = prepared.caPEM
            settings.tls = true
            certificates = prepared
            if prepared.createdAuthority { say("optgate-console: created the console's CA in \(directory)") }
            // The manager compares this with what the browser shows for /ca.crt before trusting it.
            say("optgate-console: CA certificate SHA-256 fingerprint \(prepared.caFingerprint)")
            say("optgate-console: server certificate for \(prepared.serverNames.joined(separator: ", "))")
        }
        let scheme = useTLS ? "https" : "http"
        let pages = try await ConsolePages()
        var backend = ConsoleBackend.local
        if let url = hub ?? ProcessInfo.processInfo.environment["OPTGATE_HUB"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let endpoint: HubEndpoint
            do { endpoint = try HubEndpoint(url: url) } catch { throw ValidationError("\(error)") }
            // Fail now, not at the first page: the hub must answer and be migrated (optgate --hub URL hub init).
            do {
                _ = try await Hub.with(endpoint, logger: logger) { hub in try await hub.sites() }
            } catch {
                FileHandle.standardError.write(Data("optgate-console: \(error)\n".utf8))
                throw ExitCode(69)
            }
            backend = .hub(endpoint)
            say("optgate-console: managing the hub \(endpoint)")
        }
        let routes = ConsoleRoutes(database: database, settings: settings, pages: pages, logger: logger, backend: backend)
        let displayHost = host.contains(":") ? "[\(host)]" : host
        if let token = try database.newConsoleSetupToken() {
            // Printed on the device only: whoever reads this console (or the journal) creates the first administrator.
            say("optgate-console: first-run setup at \(scheme)://\(displayHost == "127.0.0.1" ? "localhost" : displayHost):\(port)/setup")
            say("setup token: \(token)")
        }
        if useTLS { say("optgate-console: CA certificate for the browsers at \(scheme)://\(displayHost):\(port)/ca.crt") }
        say("optgate-console: listening on \(scheme)://\(displayHost):\(port)")
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil)
        if let certificates {
            var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try certificates.serverChainPEM.map { .certificate(try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem)) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificates.serverKeyPEM.utf8), format: .pem)))
            tlsConfiguration.minimumTLSVersion = .tlsv12
            let app = Application(router: routes.router(), server: try .tls(.http1(), tlsConfiguration: tlsConfiguration),
                                  configuration: configuration, logger: logger)
            try await app.runService()
        } else {
            let app = Application(router: routes.router(), configuration: configuration, logger: logger)
            try await app.runService()
        }
    }
}

/// A line on standard output, written at once (not buffered: the setup token must reach a pipe or the journal now).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
