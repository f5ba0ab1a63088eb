import GateCore
public import GateStore
public import Logging
public import ServiceLifecycle

/// Writes the signed audit head to the journal: when the daemon starts, every `interval`, and (through
/// `logHead`) when it has stopped. A log collector that ships the journal off the box thereby witnesses
/// the heads, which catches what the anchor file cannot: the database and `audit.anchor` rolled back
/// together (docs/privacy.md). Each line carries the seq and the first 16 hex digits of that entry's
/// chain hash, which `optgate audit verify --witness` accepts; no personal data.
public final class AuditHeadService<C: Clock>: Service, Sendable where C.Duration == Duration {
    let database: GateDatabase
    let clock: C
    let interval: Duration
    let logger: Logger

    public init(database: GateDatabase, clock: C, interval: Duration = .seconds(15 * 60), logger: Logger) {
        self.database = database
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // The sleep ends with a graceful shutdown; the head at stop is logged by the daemon once every
        // other service, the decision loop last, has finished.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                Self.logHead(of: self.database, moment: "periodic", logger: self.logger)
                try await self.clock.sleep(for: self.interval)
            }
        }
    }

    /// Logs the current head once; `moment` says why (`periodic`, `stop`).
    public static func logHead(of database: GateDatabase, moment: String, logger: Logger) {
        do {
            let head = try database.auditHead()
            logger.notice("audit head", metadata: [
                "audit.seq": "\(head.seq)", "audit.hash": "\(head.shortHash)",
                "audit.time": "\(head.time.millisecondsSince1970)", "audit.moment": "\(moment)",
            ])
        } catch {
            logger.error("audit head unreadable", metadata: ["error": "\(error)"])
        }
    }
}
