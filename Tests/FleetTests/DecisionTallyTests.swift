import Foundation
import GateCore
import GateHub
import GateStore
import Testing

/// The dashboard's tally of the day's decisions by method, on both backends: counted where the events are (an
/// aggregate on the hub), the same as listing them and counting, alarms and earlier days left out; and the names
/// the live feed puts on events come from a query for just those residents.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct DecisionTallyTests {
    static let expected = [DecisionCount(method: "card", granted: 2, denied: 1), DecisionCount(method: "pin", granted: 0, denied: 1)]

    static func check(_ directory: any ManagementDirectory & ConsentAndEventDirectory, since: WallTime) async throws {
        let counted = try await directory.decisionCounts(since: since)
        #expect(counted == expected)
        #expect(counted == DecisionCount.tally(try await directory.directoryEvents(since: since, limit: nil)))

        let id = try await directory.addResident(name: "张伟", unit: "3-1501", validUntil: nil, site: nil, operator: "test")
        let other = try await directory.addResident(name: "Wang Fang", unit: "3-1502", validUntil: nil, site: nil, operator: "test")
        #expect(try await directory.displayNames(of: [id, "r000000000000"]) == [id: "张伟"])
        #expect(try await directory.displayNames(of: [id, other]) == [id: "张伟", other: "Wang Fang"])
        #expect(try await directory.displayNames(of: []).isEmpty)
    }

    @Test func theLocalStoreTalliesTodaysDecisionsByMethod() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-tally-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try GateDatabase(stateDirectory: directory)
        let now = WallTime.current()
        func decision(_ time: WallTime, _ method: AccessMethod, _ result: AccessResult, _ reason: DecisionReason) -> AuditRecord {
            AuditRecord(time: time, category: .access, action: .door(.access, method: method, reason: reason), door: "front",
                        method: method, result: result, reason: reason)
        }
        _ = try database.record(decision(now.adding(days: -2), .card, .granted, .valid))
        _ = try database.record(decision(now, .card, .granted, .valid))
        _ = try database.record(decision(now, .card, .granted, .valid))
        _ = try database.record(decision(now, .card, .denied, .unknownCard))
        _ = try database.record(decision(now, .pin, .denied, .unknownPin))
        _ = try database.record(AuditRecord(time: now, category: .alarm, action: .door(.alarm, .reason(.forcedOpen)), door: "front"))
        try await Self.check(LocalDirectory(database: database), since: now.adding(days: -1))
    }

    @Test func theHubTalliesTodaysDecisionsByMethod() async throws {
        let cluster = try PostgresCluster()
        _ = try await Hub.initialize(cluster.endpoint, logger: Fleet.logger)
        try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in try await hub.addSite(name: "north") }
        #expect(cluster.cli(["gate", "add", "n1", "--site", "north"]).succeeded)
        let inserted = cluster.psql("""
            INSERT INTO event (gate_id, local_seq, site_id, time, category, action, method, result)
            SELECT g.id, v.seq, g.site_id, now() - v.age, v.category, v.action, v.method, v.result
            FROM gate g, (VALUES (1, interval '2 days', 'access', 'access.card', 'card', 'granted'),
                                 (2, interval '0', 'access', 'access.card', 'card', 'granted'),
                                 (3, interval '0', 'access', 'access.card', 'card', 'granted'),
                                 (4, interval '0', 'access', 'access.card', 'card', 'denied'),
                                 (5, interval '0', 'access', 'access.pin', 'pin', 'denied'),
                                 (6, interval '0', 'alarm', 'door.alarm', NULL, NULL)) AS v(seq, age, category, action, method, result)
            WHERE g.name = 'n1'
            """)
        #expect(inserted.succeeded, "\(inserted.stderr)")
        try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            try await Self.check(HubDirectory(hub: hub), since: WallTime.current().adding(days: -1))
        }
    }
}
