import GRDB
import GateCore

extension GateDatabase {
    /// Replaces the replica with a full snapshot of the hub (`batch`: every change of the site from sequence 0,
    /// with the current rows of every resident the hub still has), in ONE transaction, and sets the applied
    /// sequence to the snapshot's even when it is lower: the re-sync from zero a manager acknowledges after a hub
    /// was restored from an older backup (docs/fleet.md, "Backup and restore").
    ///
    /// Every resident's cards and PIN are replaced by the hub's; a resident the hub no longer has (added after the
    /// backup the hub was restored from, or erased) is erased here as an erasure from the hub would erase them,
    /// templates included. A consent row already in the local ledger (same resident, action and time) is not
    /// appended twice; a withdrawal the gate has not seen deletes templates and owes a receipt as in a pull.
    /// Receipts still owed for changes after the snapshot are dropped: those changes are not at the hub any more.
    /// - Returns: residents erased because the hub no longer has them.
    @discardableResult
    public func replaceReplica(with batch: ReplicaBatch) throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM fleetReceiptOutbox WHERE changeSeq > ?", arguments: [batch.lastSeq])
            var fresh = batch
            fresh.consents = try batch.consents.filter { consent in
                try Bool.fetchOne(db, sql: """
                    SELECT EXISTS (SELECT 1 FROM consent WHERE residentId = ? AND action = ? AND time = ?)
                    """, arguments: [consent.residentID, consent.action, consent.time.millisecondsSince1970]) != true
            }
            _ = try applyReplicaRows(fresh, in: db)
            let keep = Set(batch.residents.map(\.id))
            var erased = 0
            for id in try String.fetchAll(db, sql: "SELECT id FROM resident ORDER BY id") where !keep.contains(id) {
                if try eraseReplicated(id, in: db) != nil { erased += 1 }
            }
            return erased
        }
    }
}
