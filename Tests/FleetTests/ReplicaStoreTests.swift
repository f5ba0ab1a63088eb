import Foundation
import GateCore
import GateStore
import Testing

/// A gate's SQLite replica (`GateDatabase.applyReplica`), without a hub: batches as the hub would send them.
struct ReplicaStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-replica-\(UUID().uuidString.prefix(8))").path

    func resident(_ id: String, cards: [CardUID], keys: SiteKeys) -> ReplicaResident {
        ReplicaResident(id: id, displayName: "Li Wei", unit: "1-101", validFrom: nil, validUntil: nil, groups: [],
                        createdAt: WallTime.current(), cards: cards.map { ReplicaCard(tag: keys.cardTag(of: $0), last4: $0.last4) },
                        pin: nil)
    }

    @Test func cardsEnrolledAtTheHubOpenWithTheSiteKeyAndBatchesApplyOnce() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try GateDatabase(stateDirectory: directory)
        let keys = SiteKeys.generate()
        let uid = CardUID("04A1B2C3")!
        #expect(try database.fleetAppliedSeq() == 0)
        try database.applyReplica(ReplicaBatch(lastSeq: 2, changes: 2, residents: [resident("r000000000001", cards: [uid], keys: keys)],
                                               erased: [], consents: []))
        // Without the site key the hub's tag is unknown here: the gate must be given it.
        #expect(try database.holder(ofCard: uid) == nil)
        database.useSiteKeys(keys)
        #expect(try database.holder(ofCard: uid)?.residentID == "r000000000001")
        #expect(try database.fleetAppliedSeq() == 2)

        // A stale batch (already applied) changes nothing, even if it would revoke.
        try database.applyReplica(ReplicaBatch(lastSeq: 2, changes: 1, residents: [resident("r000000000001", cards: [], keys: keys)],
                                               erased: [], consents: []))
        #expect(try database.holder(ofCard: uid) != nil)

        // Revocation: the resident's current rows have no card.
        try database.applyReplica(ReplicaBatch(lastSeq: 3, changes: 1, residents: [resident("r000000000001", cards: [], keys: keys)],
                                               erased: [], consents: []))
        #expect(try database.holder(ofCard: uid) == nil)

        // A card that moved between residents in one batch: no uniqueness clash, the new holder has it.
        try database.applyReplica(ReplicaBatch(lastSeq: 4, changes: 1, residents: [resident("r000000000001", cards: [uid], keys: keys)],
                                               erased: [], consents: []))
        try database.applyReplica(ReplicaBatch(lastSeq: 6, changes: 2, residents: [
            resident("r000000000002", cards: [uid], keys: keys), resident("r000000000001", cards: [], keys: keys),
        ], erased: [], consents: []))
        #expect(try database.holder(ofCard: uid)?.residentID == "r000000000002")

        // Erasure: gone with everything of theirs, in the batch's transaction.
        try database.applyReplica(ReplicaBatch(lastSeq: 7, changes: 1, residents: [],
                                               erased: [ReplicaErasure(seq: 7, residentID: "r000000000002")], consents: []))
        #expect(try database.holder(ofCard: uid) == nil)
        #expect(try database.residents().map(\.id) == ["r000000000001"])
        #expect(try database.fleetAppliedSeq() == 7)
    }

    @Test func aBatchThatFailsLeavesNothingAndTheSequenceWhereItWas() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try GateDatabase(stateDirectory: directory)
        let keys = SiteKeys.generate()
        database.useSiteKeys(keys)
        let uid = CardUID("04A1B2C3")!
        // The same card for two residents in one batch violates the store's uniqueness: the whole batch fails.
        #expect(throws: (any Error).self) {
            try database.applyReplica(ReplicaBatch(lastSeq: 5, changes: 2, residents: [
                resident("r000000000001", cards: [uid], keys: keys), resident("r000000000002", cards: [uid], keys: keys),
            ], erased: [], consents: []))
        }
        #expect(try database.residents().isEmpty)
        #expect(try database.fleetAppliedSeq() == 0)
    }
}
