public import Logging
public import GateConfiguration
public import ServiceLifecycle
public import SystemdNotify
import GateControl
import UnixSignals

/// SIGHUP re-reads the configuration file. A valid one replaces the door settings in place (doors
/// keep their state); an invalid one is refused and logged, and the old configuration keeps running.
public final class ReloadService<C: Clock>: Service, Sendable where C.Duration == Duration, C.Instant: Sendable {
    let gate: GateService<C>
    let load: @Sendable () throws -> DaemonConfiguration
    let notifier: SystemdNotifier
    let logger: Logger

    /// - Parameter load: reads and validates the configuration file; `nil` when the daemon runs on
    ///   built-in defaults (SIGHUP then has nothing to reload).
    public init(gate: GateService<C>, notifier: SystemdNotifier, logger: Logger,
                load: @escaping @Sendable () throws -> DaemonConfiguration) {
        self.gate = gate
        self.notifier = notifier
        self.logger = logger
        self.load = load
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            _ = try? notifier.reloading(status: "reloading configuration")
            do {
                let configuration = try load()
                if configuration.readers != gate.configuration.readers {
                    logger.notice("reader changes take effect at the next restart; the running readers stay as they are")
                }
                let response = await withCheckedContinuation { continuation in
                    gate.reload(configuration) { continuation.resume(returning: $0) }
                }
                if response.ok {
                    logger.notice("configuration reloaded")
                } else {
                    logger.error("configuration reload refused; the previous configuration stays in force",
                                 metadata: ["reason": "\(response.error ?? "")"])
                }
            } catch {
                logger.error("configuration reload refused; the previous configuration stays in force",
                             metadata: ["reason": "\(error)"])
            }
            _ = try? notifier.ready(status: "serving")
        }
    }
}
