public import ArgumentParser
import Foundation
import GateControl
import GateConfiguration
import GateCore
import GateFace
import GateHub
import GateServices
import GateStore
import GPIO
public import Logging
import ServiceLifecycle
import FaceVision
import SystemdNotify
import UnixSignals

/// `optgated`: the gate daemon. Parses flags, reads configuration, opens the store and the doors,
/// then runs the services until SIGTERM/SIGINT.
@main
struct Optgated: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optgated",
        abstract: "The optgate gate controller daemon.",
        discussion: "Configuration keys are documented in docs/configuration.md.",
        version: "optgated \(OptgateVersion.string)"
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
        ProcessHygiene.restrictFileCreation()
        let hygieneProblem = ProcessHygiene.forbidCoreDumps()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "optgated")
        if let hygieneProblem { logger.warning("core dumps could not be turned off", metadata: ["reason": "\(hygieneProblem)"]) }
        let stateDirectory = stateDir ?? ProcessInfo.processInfo.environment["OPTGATE_STATE_DIR"] ?? "/var/lib/optgate"

        let configuration: DaemonConfiguration
        do {
            configuration = try loadConfiguration()
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if simulate, let start = ProcessInfo.processInfo.environment["OPTGATE_SIMULATED_NOW"] {
            // Simulation only: the wall clock starts at this ISO 8601 time (schedule and holiday demos, tests).
            guard let date = ISO8601DateFormatter().date(from: start) else {
                FileHandle.standardError.write(Data("optgated: OPTGATE_SIMULATED_NOW must be an ISO 8601 time such as 2026-09-20T10:00:00+08:00\n".utf8))
                throw ExitCode(64)
            }
            WallTime.simulate(startingAt: WallTime(date))
            logger.notice("simulated wall clock", metadata: ["clock.start": "\(start)"])
        }
        let database: GateDatabase
        do {
            database = try GateDatabase(stateDirectory: stateDirectory, anchorRefused: { refusal in
                logger.error("audit anchor not advanced; run optgate audit verify", metadata: ["error": "\(refusal)"])
            })
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(73)
        }
        // Door hardware: GPIO lines are requested now, so a missing chip or a busy line exits before READY.
        var relays: [String: any Relay] = [:]
        let hardwareDoors = simulate ? [] : configuration.doors.filter { $0.gpio != nil }
        for door in configuration.doors {
            guard let gpio = door.gpio, !simulate else {
                relays[door.name] = SimulatedRelay()
                if !simulate {
                    logger.warning("door has no gpio section: its relay and inputs are simulated", metadata: ["door.id": "\(door.name)"])
                }
                continue
            }
            do {
                relays[door.name] = try GPIORelay(chip: gpio.chip, line: gpio.relayLine, activeLow: gpio.relayActiveLow)
            } catch {
                FileHandle.standardError.write(Data("optgated: door \(door.name): \(error)\n".utf8))
                throw ExitCode(69)
            }
        }
        if !hardwareDoors.isEmpty {
            logger.info("door hardware on GPIO", metadata: ["gpio.library": "\(GPIOLibrary.description)",
                                                           "doors": "\(hardwareDoors.map(\.name))"])
        }
        let simulated = hardwareDoors.isEmpty

        let faceStatus = Locked(FaceStatus())
        let health = HealthBoard()
        let gate = GateService(configuration: configuration, database: database, relays: relays, clock: ContinuousClock(),
                               logger: logger, simulated: simulated, faceStatus: faceStatus, health: health)
        var doorInputs: [GPIODoorInputs] = []
        for door in hardwareDoors {
            guard let gpio = door.gpio, !gpio.inputs.isEmpty else { continue }
            do {
                doorInputs.append(try GPIODoorInputs(door: door.name, configuration: gpio, logger: logger) { [gate] input in
                    gate.submit(input)
                })
            } catch {
                FileHandle.standardError.write(Data("optgated: door \(door.name): \(error)\n".utf8))
                throw ExitCode(69)
            }
        }
        let recognition = makeRecognition(configuration, stateDirectory: stateDirectory, gate: gate, database: database,
                                          status: faceStatus, logger: logger)
        // A visitorQR door whose camera does no face entry: the camera reads QR codes only (docs/visitors.md).
        let visitorQR = recognition == nil ? makeVisitorQR(configuration, gate: gate, logger: logger) : nil
        let cameraless = configuration.doors.filter {
            $0.visitorQR && ($0.name != configuration.face.door || (configuration.face.camera == nil && configuration.face.replay == nil))
        }
        if !cameraless.isEmpty {
            logger.warning("visitorQR doors without a camera read no QR codes", metadata: ["doors": "\(cameraless.map(\.name))"])
        }
        let readers = makeReaders(configuration, gate: gate, logger: logger)
            + OSDPReader.services(configuration, stateDirectory: stateDirectory, gate: gate, logger: logger)
        let socketPath = configuration.controlSocketPath ?? ControlSocket.defaultPath(stateDirectory: stateDirectory)
        let control: ControlService<ContinuousClock>
        do {
            control = try ControlService(path: socketPath, group: configuration.controlGroup, gate: gate, simulated: simulate,
                                         enrol: recognition, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(69)
        }
        logger.info("optgated starting", metadata: ["state.dir": "\(stateDirectory)", "control.socket": "\(socketPath)",
                                                    "version": "\(OptgateVersion.string)"])
        let notifier = SystemdNotifier()
        let configPath = configurationPath
        let reload = ReloadService(gate: gate, notifier: notifier, logger: logger) {
            guard let configPath else {
                throw ConfigurationError(key: "", problem: "optgated runs on built-in defaults; there is no file to reload")
            }
            return try DaemonConfiguration(contentsOf: configPath)
        }
        let doorNames = configuration.doors.map(\.name).joined(separator: ", ")
        let notify = NotifyService(notifier: notifier, gate: gate, logger: logger) {
            "serving \(doorNames); card and PIN entry on; face entry \(faceStatus.value.state)"
        }
        // Started in this order, shut down in reverse: notify (STOPPING=1) first, the gate (relays to
        // their safe level, "daemon.stop" recorded) last.
        // Camera, readers and door inputs are supervised: one that ends or fails is restarted with back-off
        // and shown by `optgate status`; it never ends the group, so card/PIN decisions and the watchdog go on.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: gate), .init(service: control), .init(service: reload)]
        services += doorInputs.map { .init(service: SupervisedService(name: "inputs \($0.door)", service: $0, health: health, logger: logger)) }
        if let recognition {
            services.append(.init(service: SupervisedService(name: "recognition", service: recognition, health: health, logger: logger) {
                reason, delay in
                faceStatus.value.state = .disabled(reason: "\(reason); retrying in \(delay.components.seconds) s")
            }))
        }
        if let visitorQR {
            services.append(.init(service: SupervisedService(name: "visitor QR", service: visitorQR, health: health, logger: logger)))
        }
        services += readers.map { .init(service: SupervisedService(name: $0.name, service: $0.service, health: health, logger: logger)) }
        services.append(.init(service: AuditHeadService(database: database, clock: ContinuousClock(), logger: logger)))
        services.append(.init(service: SupervisedService(name: "move-out", service: MoveOutService(database: database, logger: logger),
                                                         health: health, logger: logger)))
        services.append(.init(service: SupervisedService(
            name: "filing counter", service: FilingCounterService(database: database, thresholds: { [gate] in gate.configuration.compliance.filingThresholds },
                                                                  logger: logger),
            health: health, logger: logger)))
        if let fleet = configuration.fleet {
            services.append(.init(service: try Self.fleetSync(fleet, database: database, health: health, logger: logger)))
        }
        services.append(.init(service: notify))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        // After "daemon.stop" is recorded: the last head of this run, for the journal's witnesses.
        AuditHeadService<ContinuousClock>.logHead(of: database, moment: "stop", logger: logger)
        logger.info("optgated stopped")
    }

    /// The recogniser, when a door accepts face and a camera is configured and the models load. A model
    /// that is missing or damaged turns face entry off with a clear log line; card and PIN are unaffected.
    func makeRecognition(_ configuration: DaemonConfiguration, stateDirectory: String, gate: GateService<ContinuousClock>,
                         database: GateDatabase, status: Locked<FaceStatus>, logger: Logger) -> RecognitionService<ContinuousClock>? {
        guard configuration.faceEntryConfigured else {
            status.value.state = .off
            return nil
        }
        let engine: FaceEngine
        do {
            engine = try FaceEngine(configuration: configuration.face, stateDirectory: stateDirectory)
        } catch {
            logger.error("face entry disabled: the face models could not be loaded; card and PIN keep working",
                         metadata: ["error": "\(error)"])
            status.value.state = .disabled(reason: "\(error)")
            return nil
        }
        return RecognitionService(
            engine: engine,
            source: cameraSource(configuration.face, logger: logger),
            gate: gate, database: database, door: configuration.face.door,
            enrolmentWindow: .milliseconds(Int64(configuration.face.enrolmentWindowSeconds * 1000)), status: status,
            qrReader: visitorQRReader(configuration, logger: logger), logger: logger
        )
    }

    /// The configured camera or replay clip (`face.source`).
    func cameraSource(_ face: FaceConfiguration, logger: Logger) -> @Sendable () throws -> any FrameSource {
        { [face] in try face.makeFrameSource(logger: logger) }
    }

    /// The camera as a QR reader only, for a `visitorQR` door (`face.door`) without face entry.
    func makeVisitorQR(_ configuration: DaemonConfiguration, gate: GateService<ContinuousClock>, logger: Logger) -> VisitorQRService<ContinuousClock>? {
        let face = configuration.face
        guard face.camera != nil || face.replay != nil, let reader = visitorQRReader(configuration, logger: logger) else { return nil }
        return VisitorQRService(source: cameraSource(face, logger: logger), gate: gate, door: face.door, reader: reader, logger: logger)
    }

    /// The QR reader of visitor passes, when the camera's door has `visitorQR` (docs/visitors.md).
    func visitorQRReader(_ configuration: DaemonConfiguration, logger: Logger) -> QRCodeReader? {
        guard configuration.doors.contains(where: { $0.name == configuration.face.door && $0.visitorQR }) else { return nil }
        do {
            return try QRCodeReader()
        } catch {
            logger.error("visitor QR reading disabled", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// One service per configured reader, each on its own thread. Readers are hot-pluggable: a device or
    /// pcscd that is not there yet is logged and retried by the reader, never a reason to refuse startup.
    func makeReaders(_ configuration: DaemonConfiguration, gate: GateService<ContinuousClock>,
                     logger: Logger) -> [(name: String, service: any Service)] {
        configuration.readers.enumerated().compactMap { index, reader -> (name: String, service: any Service)? in
            let name = "reader \(index) \(reader.kind.rawValue) \(reader.door)"
            // A reader typing cards faster than people present them (a BadUSB wedge) is throttled here.
            let floodGuard = ReaderFloodGuard(reader: name, logger: logger)
            let sink = floodGuard.guarding { gate.submit($0) }
            switch reader.kind {
            case .keypad:
                return (name, EvdevReader(door: reader.door, devicePath: reader.device ?? "", role: .keypad, logger: logger, sink: sink))
            case .wedge:
                return (name, EvdevReader(door: reader.door, devicePath: reader.device ?? "", role: .wedge(reader.wedge),
                                          floodGuard: floodGuard, logger: logger, sink: sink))
            case .pcsc:
                return (name, PCSCReader(door: reader.door, readerFilter: reader.reader, holdoff: reader.debounce,
                                         floodGuard: floodGuard, logger: logger, sink: sink))
            case .osdp:
                return nil  // one service per line: OSDPReader.services
            case .wiegand:
                return (name, WiegandGPIOReader(door: reader.door, settings: reader.wiegand, floodGuard: floodGuard,
                                                logger: logger, sink: sink))
            }
        }
    }

    /// The fleet sync service (docs/fleet.md): reads the gate's credentials file and lets card lookups use the
    /// site key in it. A credentials file that cannot be used stops startup (exit 78), like a bad configuration.
    static func fleetSync(_ fleet: FleetConfiguration, database: GateDatabase, health: HealthBoard, logger: Logger) throws -> FleetSyncService {
        let credentials: GateCredentials
        do {
            credentials = try GateCredentials.load(path: fleet.credentialsFile)
            guard credentials.gate == fleet.gate, credentials.site == fleet.site else {
                throw HubError.credentials(path: fleet.credentialsFile, reason: "it is for gate \(credentials.gate) of site \(credentials.site), not fleet.gate and fleet.site")
            }
            guard let keys = SiteKeys(hex: credentials.siteKey) else {
                throw HubError.credentials(path: fleet.credentialsFile, reason: "its siteKey is not 64 hex digits")
            }
            database.useSiteKeys(keys)
            try credentials.endpoint().trusting(caFile: fleet.caFile).checkTrust()
        } catch {
            FileHandle.standardError.write(Data("optgated: \(error)\n".utf8))
            throw ExitCode(78)
        }
        logger.info("fleet gate", metadata: ["fleet.hub": "\(fleet.hub)", "fleet.site": "\(fleet.site)", "fleet.gate": "\(fleet.gate)"])
        return FleetSyncService(configuration: fleet, credentials: credentials, database: database, health: health, logger: logger)
    }

    /// `--config`, else `/etc/optgate/optgated.json` when it exists (not with `--simulate`), else none.
    var configurationPath: String? {
        if let config { return config }
        let standard = "/etc/optgate/optgated.json"
        return !simulate && FileManager.default.fileExists(atPath: standard) ? standard : nil
    }

    func loadConfiguration() throws -> DaemonConfiguration {
        try configurationPath.map { try DaemonConfiguration(contentsOf: $0) } ?? .defaults
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
