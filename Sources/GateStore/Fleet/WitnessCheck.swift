public import Foundation
import GRDB

/// What the gate's log says about a head an outside witness (the fleet hub) holds.
public enum WitnessComparison: Sendable, Hashable {
    /// The log still contains that entry with that chain hash: the log only grew since.
    case contained
    /// The log ends before the witnessed entry: cut off, wiped or restored from an older copy.
    case behind(localSeq: Int64)
    /// The log has that entry but with another chain hash: rewritten or replaced.
    case rewritten
}

extension GateDatabase {
    /// Compares the log with a witnessed head in one indexed read (the sync service does it on every push;
    /// the full `auditReport(witness:)` walks the whole chain and runs only when this finds something).
    public func compareAudit(withWitnessedSeq seq: Int64, hash: Data) throws -> WitnessComparison {
        try read { db in
            let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM auditEntry") ?? 0
            if last < seq { return .behind(localSeq: last) }
            if seq == 0 { return .contained }
            return try AuditChain.hash(at: seq, in: db) == hash ? .contained : .rewritten
        }
    }
}
