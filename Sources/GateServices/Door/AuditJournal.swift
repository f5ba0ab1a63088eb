import GateControl
import GateCore
import GateStore
import Logging

/// Writes the decision loop's audit entries, and keeps the gate deciding when the store cannot take them.
///
/// A full disk or a failing card must not stop the door: credential lookups are reads and go on, and
/// entries that cannot be written wait in memory (at most `capacity`; beyond that they are counted)
/// and are written in order, with their original times, as soon as the store accepts writes again,
/// followed by one `audit.resumed` entry saying how long writing failed, how many entries waited and
/// how many were lost. Entries committed before the failure are untouched: each was its own
/// transaction. The failure is an alarm: one critical log line, and `optgate status` shows it.
///
/// Not thread-safe by design: every method runs on the decision loop's serial store queue.
final class AuditJournal: @unchecked Sendable {
    let database: GateDatabase
    let health: HealthBoard
    let logger: Logger
    let capacity: Int
    private var pending: [AuditRecord] = []
    private var dropped = 0
    private var failingSince: WallTime?

    init(database: GateDatabase, health: HealthBoard, logger: Logger, capacity: Int = 10_000) {
        self.database = database
        self.health = health
        self.logger = logger
        self.capacity = capacity
    }

    /// Writes `record` after any entries still waiting, or queues it when the store refuses.
    /// - Returns: the entry's seq when it was written now, `nil` when it waits in memory.
    func append(_ record: AuditRecord) -> Int64? {
        if failingSince != nil { flush() }
        if failingSince == nil {
            do {
                return try database.record(record)
            } catch {
                failed(error, action: record.action)
            }
        }
        if pending.count < capacity {
            pending.append(record)
        } else {
            dropped += 1
        }
        publish()
        return nil
    }

    /// Tries again to write what is waiting (called by the decision loop's timer).
    func retry() {
        if failingSince != nil { flush() }
    }

    private func flush() {
        while let first = pending.first {
            do {
                _ = try database.record(first)
            } catch {
                publish()
                return
            }
            pending.removeFirst()
        }
        guard let since = failingSince else { return }
        let resumed = AuditRecord(time: .current(), category: .system, action: .auditResumed, detail: [
            "failingSinceMs": String(since.millisecondsSince1970), "droppedEntries": String(dropped),
        ])
        do {
            _ = try database.record(resumed)
        } catch {
            publish()
            return
        }
        logger.notice("audit log writable again; waiting entries written", metadata: ["audit.dropped": "\(dropped)"])
        failingSince = nil
        dropped = 0
        health.updateStorage { $0 = StorageHealth(collapsedDenials: $0.collapsedDenials) }
    }

    private func failed(_ error: any Error, action: AuditAction) {
        failingSince = .current()
        logger.critical("could not write the audit log; decisions go on and entries wait in memory",
                        metadata: ["error": "\(error)", "audit.action": "\(action)"])
        health.updateStorage {
            $0.state = "failing"
            $0.reason = "\(error)"
            $0.since = failingSince
        }
    }

    private func publish() {
        health.updateStorage {
            $0.pendingEntries = pending.count
            $0.droppedEntries = dropped
        }
    }
}
