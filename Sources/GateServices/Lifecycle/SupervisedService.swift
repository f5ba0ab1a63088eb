import Foundation
import GateControl
import GateCore
import GateStore
public import Logging
public import ServiceLifecycle

/// Runs an optional service (camera and face recognition, a reader, door inputs) so that its ending
/// never ends the daemon.
///
/// `ServiceGroup` shuts the whole group down when any service returns or throws; for the decision
/// loop, the control socket and the watchdog that is right, for a camera whose file is missing it is
/// not. Here the service is run again after a back-off that doubles from `initialDelay` up to
/// `maximumDelay` (and starts over once a run lasted longer than `maximumDelay`), and its state is
/// posted to the `HealthBoard` for `optgate status`. Graceful shutdown reaches the wrapped service as
/// usual and ends the loop.
public final class SupervisedService: Service, Sendable {
    public let name: String
    let service: any Service
    let initialDelay: Duration
    let maximumDelay: Duration
    let health: HealthBoard
    let logger: Logger
    let onEnd: @Sendable (_ reason: String, _ retryIn: Duration) -> Void

    /// - Parameters:
    ///   - onEnd: called after each end with the reason and the back-off, e.g. to mark face entry off.
    public init(name: String, service: any Service, health: HealthBoard, logger: Logger,
                initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(60),
                onEnd: @escaping @Sendable (_ reason: String, _ retryIn: Duration) -> Void = { _, _ in }) {
        self.name = name
        self.service = service
        self.health = health
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        var logger = logger
        logger[metadataKey: "service"] = "\(name)"
        self.logger = logger
        self.onEnd = onEnd
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var backoff = Backoff(initial: initialDelay, maximum: maximumDelay)
        var restarts = 0
        var lastReason: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            health.update(ServiceHealth(name: name, state: "running", reason: lastReason, restarts: restarts))
            let started = clock.now
            let reason: String
            do {
                try await service.run()
                reason = "it stopped"
            } catch {
                reason = "\(error)"
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            if started.duration(to: clock.now) > maximumDelay { backoff.reset() }
            let delay = backoff.next()
            restarts += 1
            lastReason = reason
            health.update(ServiceHealth(name: name, state: "restarting", reason: reason, restarts: restarts,
                                        nextAttempt: WallTime.current().advanced(by: delay)))
            logger.error("service ended; restarting it after a pause, card and PIN decisions go on",
                         metadata: ["reason": "\(reason)", "restart.delay": "\(delay)", "restart.count": "\(restarts)"])
            onEnd(reason, delay)
            do {
                try await cancelWhenGracefulShutdown { [delay] in try await Task.sleep(for: delay) }
            } catch {
                break
            }
        }
        health.update(ServiceHealth(name: name, state: "stopped", reason: lastReason, restarts: restarts))
    }
}

