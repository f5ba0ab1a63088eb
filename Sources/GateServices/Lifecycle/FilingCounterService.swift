public import GateCore
public import GateStore
public import Logging
public import ServiceLifecycle

/// The filing counter (R14): watches the number of distinct people with stored face data and raises one
/// `filing.threshold` alarm per configured threshold it reaches (`GateDatabase.raiseFilingAlarms`, which
/// persists each, so a restart never repeats one). It counts again whenever the face index version moves
/// (an enrolment, deletion, withdrawal or erasure by anyone) and at least every `interval`.
public final class FilingCounterService: Service, Sendable {
    let database: GateDatabase
    let thresholds: @Sendable () -> FilingThresholds
    let poll: Duration
    let logger: Logger

    public init(database: GateDatabase, thresholds: @escaping @Sendable () -> FilingThresholds, poll: Duration = .seconds(1),
                logger: Logger) {
        self.database = database
        self.thresholds = thresholds
        self.poll = poll
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var seen: (version: Int64, thresholds: FilingThresholds)?
            while !Task.isCancelled {
                let version = (try? self.database.faceIndexVersion()) ?? -1
                let thresholds = self.thresholds()
                if seen?.version != version || seen?.thresholds != thresholds {
                    if self.check(thresholds) { seen = (version, thresholds) }
                }
                try await Task.sleep(for: self.poll)
            }
        }
    }

    /// Raises what is due. - Returns: whether the check completed.
    @discardableResult
    public func check(_ thresholds: FilingThresholds) -> Bool {
        do {
            for threshold in try database.raiseFilingAlarms(thresholds) {
                logger.critical("filing threshold reached: people with face data", metadata: [
                    "filing.threshold": "\(threshold)", "filing.kind": "\(threshold == thresholds.filing ? "filing" : "warning")",
                ])
            }
            return true
        } catch {
            logger.error("filing counter check failed; retrying", metadata: ["error": "\(error)"])
            return false
        }
    }
}
