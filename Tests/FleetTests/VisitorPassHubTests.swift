import Foundation
import GateCore
import GateHub
import GateStore
import Testing

/// Visitor passes through the hub (docs/fleet.md#visitor-passes): the same script against both backends, the
/// replica at two gates' stores, and a real gate opened by a pass the CLI issued at the hub.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct VisitorPassHubTests {
    /// The visitor script every backend must pass.
    static func conform(_ directory: any ManagementDirectory) async throws {
        let issued = try await directory.issueVisitorPass(doors: ["main", "main", "side"], validFor: .seconds(3600), uses: 2,
                                                          name: "张伟 <b>", site: nil, operator: "test")
        #expect(VisitorPassID.isWellFormed(issued.pass.id))
        #expect(issued.code.count == VisitorKeypad.codeDigits && issued.code.allSatisfy(\.isNumber))
        #expect(issued.qr.hasPrefix("OGV1.\(issued.pass.id).\(issued.pass.validUntil.millisecondsSince1970)."))
        #expect(issued.pass.doors == ["main", "side"])
        var listed = try await directory.visitorPasses()
        #expect(listed.map(\.id) == [issued.pass.id])
        #expect(listed.first?.usesLeft == 2 && listed.first?.usesTotal == 2 && listed.first?.revokedAt == nil)
        #expect(listed.first?.name == "张伟 <b>")

        // Refusals: no door, too many uses, too long.
        await #expect(throws: VisitorPassError.self) {
            _ = try await directory.issueVisitorPass(doors: [], validFor: .seconds(60), uses: 1, name: nil, site: nil, operator: "test")
        }
        await #expect(throws: VisitorPassError.self) {
            _ = try await directory.issueVisitorPass(doors: ["main"], validFor: .seconds(60), uses: 1001, name: nil, site: nil, operator: "test")
        }
        await #expect(throws: VisitorPassError.self) {
            _ = try await directory.issueVisitorPass(doors: ["main"], validFor: .seconds(91 * 86_400), uses: 1, name: nil, site: nil, operator: "test")
        }

        try await directory.revokeVisitorPass(id: issued.pass.id, operator: "test")
        listed = try await directory.visitorPasses()
        #expect(listed.first?.revokedAt != nil)
        await #expect(throws: VisitorPassError.alreadyRevoked(issued.pass.id)) {
            try await directory.revokeVisitorPass(id: issued.pass.id, operator: "test")
        }
        await #expect(throws: VisitorPassError.notFound("v000000000000")) {
            try await directory.revokeVisitorPass(id: "v000000000000", operator: "test")
        }
    }

    static func temporaryStore() throws -> (GateDatabase, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("og-vph-\(UUID().uuidString.prefix(8))").path
        return (try GateDatabase(stateDirectory: path), path)
    }

    @Test func theLocalStoreConforms() async throws {
        let (database, path) = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.conform(LocalDirectory(database: database))
    }

    @Test func theHubConformsAndKeepsNoCode() async throws {
        let cluster = try PostgresCluster()
        _ = try await Hub.initialize(cluster.endpoint, logger: Fleet.logger)
        try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            try await hub.addSite(name: "north")
            try await Self.conform(HubDirectory(hub: hub))
            let issued = try await HubDirectory(hub: hub).issueVisitorPass(doors: ["main"], validFor: .seconds(60), uses: 1, name: nil,
                                                                             site: "north", operator: "test")
            // Neither the code nor the QR text is anywhere in the row.
            let row = cluster.psql("SELECT to_jsonb(p)::text || encode(code_tag, 'hex') FROM visitor_pass p WHERE id = '\(issued.pass.id)'")
            #expect(row.succeeded && row.line.contains(issued.pass.id))
            #expect(!row.line.contains(issued.code))
            #expect(!row.line.contains(String(issued.qr.split(separator: ".").last!)))
            // Issue and revocation logged changes for the gates.
            #expect(try await cluster.changeKinds().filter { $0 == "visitor" }.count == 3)
            // A pass changes only by being revoked.
            #expect(!cluster.psql("UPDATE visitor_pass SET uses_total = 5 WHERE id = '\(issued.pass.id)'").succeeded)
        }
    }

    /// Two gates of one site replicate a pass issued at the hub: its QR and code open both, a use reported by one
    /// lowers the uses left at the other, a revocation reaches both, and a pass of another site opens neither.
    @Test func aHubPassReplicatesAndItsUsesAreCountedAcrossGates() async throws {
        let cluster = try PostgresCluster()
        _ = try await Hub.initialize(cluster.endpoint, logger: Fleet.logger)
        let (credentials, issued, revoked, foreign) = try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            try await hub.addSite(name: "north")
            try await hub.addSite(name: "south")
            let credentials = [try await hub.addGate(name: "g1", site: "north"), try await hub.addGate(name: "g2", site: "north")]
            let directory = HubDirectory(hub: hub)
            let issued = try await directory.issueVisitorPass(doors: ["main"], validFor: .seconds(3600), uses: 2, name: nil,
                                                              site: "north", operator: "test")
            let revoked = try await directory.issueVisitorPass(doors: ["main"], validFor: .seconds(3600), uses: 5, name: nil,
                                                               site: "north", operator: "test")
            let foreign = try await directory.issueVisitorPass(doors: ["main"], validFor: .seconds(3600), uses: 5, name: nil,
                                                               site: "south", operator: "test")
            return (credentials, issued, revoked, foreign)
        }
        var stores: [(GateDatabase, GateCredentials)] = []
        var paths: [String] = []
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        for credential in credentials {
            let (store, path) = try Self.temporaryStore()
            paths.append(path)
            store.useSiteKeys(try #require(SiteKeys(hex: credential.siteKey)))
            stores.append((store, credential))
        }
        func sync(_ index: Int) async throws {
            let (store, credential) = stores[index]
            try await Hub.with(try credential.endpoint(), logger: Fleet.logger) { hub in
                while let batch = try await hub.pull(after: try store.fleetAppliedSeq()) { try store.applyReplica(batch) }
            }
        }
        try await sync(0)
        try await sync(1)
        // Only the site's own passes reach its gates (row-level security).
        #expect(Set(try stores[0].0.visitorPasses().map(\.id)) == [issued.pass.id, revoked.pass.id])

        // g1: the QR opens once; the use is reported.
        #expect(try stores[0].0.consumeVisitorPass(qr: issued.qr, door: "main").refusal == nil)
        #expect(try stores[0].0.consumeVisitorPass(qr: issued.qr, door: "side").refusal == .notInGroup)
        let use = LocalVisitorUse(seq: 7, time: .current(), passID: issued.pass.id)
        let (first, again, upTo) = try await Hub.with(try credentials[0].endpoint(), logger: Fleet.logger) { hub in
            (try await hub.pushVisitorUses([use]), try await hub.pushVisitorUses([use]), try await hub.visitorUsesPushedUpTo())
        }
        #expect(first == 1 && again == 0 && upTo == 7)
        // g2 learns of it: one use left there; its keypad code takes it, then the pass is used up.
        try await sync(1)
        #expect(try stores[1].0.visitorPasses().first { $0.id == issued.pass.id }?.usesLeft == 1)
        #expect(try stores[1].0.consumeVisitorPass(code: PIN(issued.code)!, door: "main")?.refusal == nil)
        #expect(try stores[1].0.consumeVisitorPass(qr: issued.qr, door: "main").refusal == .passUsedUp)
        // A use spent at g1 is never given back by a later pull that has not counted it yet.
        try await sync(0)
        #expect(try stores[0].0.visitorPasses().first { $0.id == issued.pass.id }?.usesLeft == 1)

        // Revoked at the hub: refused at both after the pull.
        #expect(try stores[0].0.consumeVisitorPass(qr: revoked.qr, door: "main").refusal == nil)
        try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            try await HubDirectory(hub: hub).revokeVisitorPass(id: revoked.pass.id, operator: "test")
        }
        try await sync(0)
        try await sync(1)
        for (store, _) in stores {
            #expect(try store.consumeVisitorPass(qr: revoked.qr, door: "main").refusal == .passRevoked)
        }
        // South's pass: signed with another site's key, nobody's here.
        #expect(try stores[0].0.consumeVisitorPass(qr: foreign.qr, door: "main").passID == nil)
        #expect(try stores[0].0.consumeVisitorPass(code: PIN(foreign.code)!, door: "main") == nil)
    }

    /// The whole path with real processes: `optgate --hub URL visitor issue`, a running gate replicates it, the QR
    /// opens its door (`optgate simulate qr`), the gate reports the use, and a second gate then refuses the
    /// single-use pass.
    @Test func aPassIssuedWithTheCLIOpensAGateOnceAcrossTheSite() async throws {
        let (cluster, gates) = try FleetEndToEndTests.fleet()
        let issued = cluster.cli(["visitor", "issue", "--door", "main", "--valid-for", "1h", "--uses", "1", "--json"])
        try #require(issued.succeeded, "\(issued.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(issued.stdout.utf8)) as? [String: Any])
        let qr = try #require(object["qr"] as? String)
        func show(_ gate: FleetGate) -> String {
            let result = gate.run(["simulate", "qr", "--payload", qr])
            return result.succeeded ? String(result.line.prefix { $0 != " " }) : "error: \(result.stderr)"
        }
        #expect(eventually(within: 2) { show(gates[0]) == "granted" }, "granted at g1 within 2 s")
        #expect(eventually(within: 3) { cluster.psql("SELECT count(*) FROM visitor_use").line == "1" }, "g1 reported the use")
        #expect(eventually(within: 2) { gates[1].run(["visitor", "list"]).stdout.contains("passUsedUp") }, "used up at g2 within 2 s of the report")
        #expect(show(gates[1]) == "denied")
        let listed = cluster.cli(["visitor", "list"])
        #expect(listed.succeeded && listed.stdout.contains("uses 0/1"))
    }
}
