public import GateCore
public import GateStore
public import Logging
public import ServiceLifecycle

/// Deletes a resident's face data when they move out (R9): at their `validUntil` the rules already refuse
/// every credential; this service withdraws their face consent and deletes their templates in one
/// transaction, with a `resident.moveOut` audit entry and a receipt (`GateDatabase.moveOut`), without
/// anyone running a command. It wakes at the next move-out of a resident with face data, and at least
/// every `interval` to notice move-out times changed by `optgate resident update`.
public final class MoveOutService: Service, Sendable {
    let database: GateDatabase
    let interval: Duration
    let now: @Sendable () -> WallTime
    let logger: Logger

    public init(database: GateDatabase, interval: Duration = .seconds(60), now: @escaping @Sendable () -> WallTime = WallTime.current,
                logger: Logger) {
        self.database = database
        self.interval = interval
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wait = self.sweep()
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Moves out everyone due now. - Returns: how long to sleep before the next sweep.
    @discardableResult
    public func sweep() -> Duration {
        let time = now()
        do {
            for residentID in try database.dueMoveOuts(at: time) {
                guard let receipt = try database.moveOut(residentID: residentID, operator: "optgated") else { continue }
                logger.notice("face data deleted at move-out", metadata: [
                    "audit.seq": "\(receipt.auditSeq)", "face.templatesDeleted": "\(receipt.templatesDeleted)",
                    "consent.withdrawn": "\(receipt.consentID != nil)",
                ])
            }
            if let next = try database.nextMoveOut(after: time) {
                let until = Duration.milliseconds(next.millisecondsSince1970 - time.millisecondsSince1970)
                return max(.milliseconds(50), min(interval, until))
            }
        } catch {
            logger.error("move-out sweep failed; retrying", metadata: ["error": "\(error)"])
        }
        return interval
    }
}
