import Foundation
import GateCore
import GateHub
import GateStore
import Testing

/// One management API, two backends: the same script against the single box's SQLite and the fleet hub.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct DirectoryConformanceTests {
    /// The script every backend must pass.
    static func conform(_ directory: any ManagementDirectory) async throws {
        let uid = CardUID("04A1B2C3")!
        let id = try await directory.addResident(name: "Li Wei", unit: "3-1501", validUntil: nil, site: nil, operator: "test")
        #expect(id.hasPrefix("r") && id.count == 13)
        try await directory.addCard(residentID: id, uid: uid, operator: "test")
        var listed = try await directory.residents()
        #expect(listed.map(\.id) == [id])
        #expect(listed.first?.cards == ["B2C3"])
        // One resident by id is the one listed; an id of nobody's is nil, not an error.
        #expect(try await directory.resident(id) == listed.first)
        #expect(try await directory.resident("r000000000000") == nil)
        #expect(listed.first?.hasPIN == false)

        // The same card twice: refused, and the first enrolment stands.
        let other = try await directory.addResident(name: "Wang Fang", unit: "3-1502", validUntil: nil, site: nil, operator: "test")
        await #expect(throws: (any Error).self) { try await directory.addCard(residentID: other, uid: uid, operator: "test") }
        // Search by part of a name or a unit, case-insensitive, in unit order, limited; no match is an empty list.
        #expect(try await directory.residents(matching: "wANG", limit: nil).map(\.id) == [other])
        #expect(try await directory.residents(matching: "3-150", limit: nil).map(\.id) == [id, other])
        #expect(try await directory.residents(matching: "3-150", limit: 1).map(\.id) == [id])
        #expect(try await directory.residents(matching: "%", limit: nil).isEmpty)
        #expect(try await directory.residents(matching: "", limit: nil).count == 2)
        // Unknown residents: refused.
        await #expect(throws: (any Error).self) { try await directory.addCard(residentID: "r000000000000", uid: CardUID("0A0B0C0D")!, operator: "test") }

        try await directory.setPIN(residentID: id, pin: PIN("482915")!, lookupTag: true, operator: "test")
        listed = try await directory.residents()
        #expect(listed.first { $0.id == id }?.hasPIN == true)

        // Update: name and unit change, a move-out time is set and cleared, the rest stays.
        let moveOut = WallTime(millisecondsSince1970: 1_900_000_000_000)
        try await directory.updateResident(id, change: ResidentChange(name: "Li Wei-Zhang", unit: "3-1601", validUntil: .set(moveOut)),
                                           operator: "test")
        var updated = try #require(try await directory.residents().first { $0.id == id })
        #expect(updated.displayName == "Li Wei-Zhang" && updated.unit == "3-1601")
        #expect(updated.validUntil == moveOut)
        #expect(updated.cards == ["B2C3"] && updated.hasPIN)
        try await directory.updateResident(id, change: ResidentChange(unit: "3-1602"), operator: "test")
        updated = try #require(try await directory.residents().first { $0.id == id })
        #expect(updated.displayName == "Li Wei-Zhang" && updated.unit == "3-1602" && updated.validUntil == moveOut)
        // A move-out before the move-in, or an unknown resident: refused, nothing changed.
        await #expect(throws: (any Error).self) {
            try await directory.updateResident(id, change: ResidentChange(validFrom: .set(moveOut.adding(days: 1))), operator: "test")
        }
        await #expect(throws: (any Error).self) {
            try await directory.updateResident("r000000000000", change: ResidentChange(name: "Nobody"), operator: "test")
        }
        try await directory.updateResident(id, change: ResidentChange(validUntil: .set(nil)), operator: "test")
        updated = try #require(try await directory.residents().first { $0.id == id })
        #expect(updated.validUntil == nil && updated.unit == "3-1602")

        try await directory.removeCard(residentID: id, uid: uid, operator: "test")
        #expect(try await directory.residents().first { $0.id == id }?.cards == [])
        await #expect(throws: (any Error).self) { try await directory.removeCard(residentID: id, uid: uid, operator: "test") }

        let receipt = try await directory.eraseResident(id, operator: "test")
        #expect(receipt.contains("receipt"))
        #expect(try await directory.residents().map(\.id) == [other])
        await #expect(throws: (any Error).self) { try await directory.eraseResident(id, operator: "test") }
    }

    @Test func theLocalStoreConforms() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-conf-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.conform(LocalDirectory(database: GateDatabase(stateDirectory: directory)))
    }

    @Test func theHubConforms() async throws {
        let cluster = try PostgresCluster()
        _ = try await Hub.initialize(cluster.endpoint, logger: Fleet.logger)
        try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            try await hub.addSite(name: "north")
            try await Self.conform(HubDirectory(hub: hub))
            // Every change was logged for the gates: adds, card, PIN, removal, the erasure last.
            let kinds = try await cluster.changeKinds()
            #expect(kinds.last == "erase")
            #expect(kinds.filter { $0 == "resident" }.count >= 5)
        }
    }
}

extension PostgresCluster {
    func changeKinds() async throws -> [String] {
        psql("SELECT kind FROM change ORDER BY seq").stdout.split(separator: "\n").map(String.init)
    }
}
