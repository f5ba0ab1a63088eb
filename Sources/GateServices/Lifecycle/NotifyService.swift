public import Logging
public import ServiceLifecycle
public import SystemdNotify

/// The systemd contract: `READY=1` once every other service is constructed (store, relays and socket
/// were opened before the group started), `WATCHDOG=1` only while the decision loop makes progress,
/// `STATUS=` text, and `STOPPING=1` on graceful shutdown. Without `NOTIFY_SOCKET` it does nothing.
///
/// Progress is proven, not assumed: each period the service posts a numbered heartbeat into the
/// decision loop's queue and pings the watchdog only if the loop has processed the previous one. A
/// stalled loop therefore stops the pings and systemd restarts the daemon.
public final class NotifyService<C: Clock>: Service, Sendable where C.Duration == Duration, C.Instant: Sendable {
    let notifier: SystemdNotifier
    let gate: GateService<C>
    let status: @Sendable () -> String
    let logger: Logger

    public init(notifier: SystemdNotifier, gate: GateService<C>, logger: Logger, status: @escaping @Sendable () -> String) {
        self.notifier = notifier
        self.gate = gate
        self.logger = logger
        self.status = status
    }

    public func run() async throws {
        send { try $0.ready(status: status()) }
        if let interval = notifier.watchdogInterval {
            var token: UInt64 = 0
            var stalled = false
            while !Task.isShuttingDownGracefully {
                token += 1
                gate.heartbeat(token)
                try? await Task.sleep(for: interval)
                guard !Task.isShuttingDownGracefully else { break }
                if gate.processedHeartbeat >= token {
                    if stalled { logger.notice("decision loop progressing again; watchdog resumed") }
                    stalled = false
                    send { try $0.watchdog() }
                } else if !stalled {
                    stalled = true
                    logger.error("decision loop stalled; withholding the watchdog ping", metadata: ["watchdog.heartbeat": "\(token)"])
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        send { try $0.stopping(status: "stopping: doors going to their safe level") }
    }

    private func send(_ body: (SystemdNotifier) throws -> Bool) {
        do {
            _ = try body(notifier)
        } catch {
            logger.warning("sd_notify failed", metadata: ["error": "\(error)"])
        }
    }
}
