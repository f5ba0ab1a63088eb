import Foundation
import GateCore
import GateHub
import GateStore
import Testing

/// The re-sync from zero after a hub was restored to an older sequence (`GateDatabase.replaceReplica`,
/// `HubChangeHead.rolledBack`), without a hub: snapshots as the restored hub would send them.
struct ReplicaResyncTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-resync-\(UUID().uuidString.prefix(8))").path

    func resident(_ id: String, cards: [CardUID], keys: SiteKeys) -> ReplicaResident {
        ReplicaResident(id: id, displayName: "Li Wei", unit: "1-101", validFrom: nil, validUntil: nil, groups: [],
                        createdAt: WallTime.current(), cards: cards.map { ReplicaCard(tag: keys.cardTag(of: $0), last4: $0.last4) },
                        pin: nil)
    }

    func consent(_ hubID: Int64, seq: Int64, resident: String, action: String, time: WallTime) -> ReplicaConsent {
        ReplicaConsent(hubID: hubID, changeSeq: seq, residentID: resident, action: action, time: time, noticeVersion: "v1",
                       noticeSHA256: String(repeating: "a", count: 64), language: "zh", method: "paper", operator: "manager",
                       scope: ["face"])
    }

    @Test func aSnapshotReplacesTheReplicaInOneGoAndLowersTheSequence() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try GateDatabase(stateDirectory: directory)
        let keys = SiteKeys.generate()
        database.useSiteKeys(keys)
        let (kept, revoked, added) = (CardUID("04A1B2C3")!, CardUID("0BADCAFE")!, CardUID("0C0FFEE0")!)
        let granted = WallTime.current()
        // Before the backup (seq ≤ 3): r1 with two cards and a consent.
        try database.applyReplica(ReplicaBatch(lastSeq: 3, changes: 3, residents: [resident("r000000000001", cards: [kept, revoked], keys: keys)],
                                               erased: [], consents: [consent(1, seq: 3, resident: "r000000000001", action: "grant", time: granted)]))
        // After it (seq 4…6): r2 added, r1's second card revoked.
        try database.applyReplica(ReplicaBatch(lastSeq: 6, changes: 3, residents: [
            resident("r000000000002", cards: [added], keys: keys), resident("r000000000001", cards: [kept], keys: keys),
        ], erased: [], consents: []))
        #expect(try database.holder(ofCard: revoked) == nil)

        // The restored hub's snapshot (newest 3): r1 with both cards, its consent again; r2 unknown there.
        let erased = try database.replaceReplica(with: ReplicaBatch(
            lastSeq: 3, changes: 3, residents: [resident("r000000000001", cards: [kept, revoked], keys: keys)], erased: [],
            consents: [consent(1, seq: 3, resident: "r000000000001", action: "grant", time: granted)]))
        #expect(erased == 1)
        #expect(try database.fleetAppliedSeq() == 3, "the applied sequence goes down to the snapshot's")
        #expect(try database.holder(ofCard: revoked)?.residentID == "r000000000001", "the restored hub's cards")
        #expect(try database.holder(ofCard: added) == nil)
        #expect(try database.residents().map(\.id) == ["r000000000001"])
        #expect(try database.consentHistory(residentID: "r000000000001").count == 1, "the consent row is not appended twice")

        // From there batches apply as before, with numbers the gate had applied before the restore.
        try database.applyReplica(ReplicaBatch(lastSeq: 4, changes: 1, residents: [resident("r000000000001", cards: [kept], keys: keys)],
                                               erased: [], consents: []))
        #expect(try database.holder(ofCard: revoked) == nil)
        #expect(try database.fleetAppliedSeq() == 4)
    }

    @Test func theHubIsBehindWhenItsLogIsShorterOrLacksTheAppliedChange() {
        #expect(!HubChangeHead(newest: 0, holdsApplied: false, rollbackRaised: false, resyncRequested: false).rolledBack(applied: 0),
                "a gate that applied nothing is never ahead")
        #expect(!HubChangeHead(newest: 9, holdsApplied: true, rollbackRaised: false, resyncRequested: false).rolledBack(applied: 6))
        #expect(HubChangeHead(newest: 3, holdsApplied: false, rollbackRaised: false, resyncRequested: false).rolledBack(applied: 6))
        #expect(HubChangeHead(newest: 9, holdsApplied: false, rollbackRaised: false, resyncRequested: false).rolledBack(applied: 6),
                "restored, then changed past the gate: the change it applied last is not there")
    }
}
