import Foundation
import GateCore
import GateHub
import GateStore
import Synchronization
import Testing

/// `sqlite3` on a gate's store (read while the daemon runs: WAL), one row a line, fields split by `|`.
func gateSQL(_ gate: FleetGate, _ sql: String) -> [String] {
    execute("/usr/bin/sqlite3", ["-readonly", "\(gate.directory)/optgate.sqlite", sql]).stdout.split(separator: "\n").map(String.init)
}

/// A stop flag shared with the threads and tasks that drive the test.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Issue 11, acceptance 1: `kill -9` of a gate in the middle of a batch, 50 times: no duplicated or lost change or event.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct FleetCrashTests {
    /// Where a kill landed, from the last fleet line the daemon logged before it died.
    enum Phase: String, CaseIterable { case apply = "inside apply", push = "inside event push", other = "elsewhere" }

    @Test func aGateKilledFiftyTimesMidBatchEndsWithTheHubsStateAndEachEventOnce() async throws {
        let wallStart = ContinuousClock.now
        let (cluster, gates) = try FleetEndToEndTests.fleet(gates: ["g1"])
        let gate = gates[0]
        defer { gate.stop() }

        // 40 residents, and one whose card never changes: the access events made at the gate all along.
        let (residents, steady) = try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            let directory = HubDirectory(hub: hub)
            var residents: [String] = []
            for index in 0..<40 {
                residents.append(try await directory.addResident(name: "Resident \(index)", unit: "\(index / 4 + 1)-\(index % 4 + 101)",
                                                                 validUntil: nil, site: nil, operator: "test"))
            }
            let steady = try await directory.addResident(name: "Steady", unit: "9-901", validUntil: nil, site: nil, operator: "test")
            try await directory.addCard(residentID: steady, uid: CardUID("5EAD0001")!, operator: "test")
            return (residents, steady)
        }
        try #require(eventually(within: 5) { gate.card("5EAD0001") == "granted" })

        // A steady stream of hub changes: bursts of 50–200 card adds and removes over the 40 residents, each burst
        // one hub transaction (so the gate pulls big batches), the tags keyed with the site key as `card add` does.
        let siteKeys = try #require(SiteKeys(hex: cluster.psql("SELECT secret FROM site_secret").line))
        let stop = StopFlag()
        defer { stop.set() }  // a failed expectation that throws must not leave the driver and the event thread running
        let driver = Task.detached { () -> Int in
            var generator = SystemRandomNumberGenerator()
            var next: UInt32 = 0x1000_0000, changes = 0, cards = 0
            while !stop.isSet {
                let adds = Int.random(in: 50...200, using: &generator)
                let removes = cards > 1500 ? adds + adds / 5 : adds * 2 / 5
                var values: [String] = []
                for _ in 0..<adds {
                    next += 1
                    let uid = CardUID(String(format: "%08X", next))!
                    let tag = siteKeys.cardTag(of: uid).map { String(format: "%02x", $0) }.joined()
                    values.append("((SELECT id FROM site), '\(residents.randomElement(using: &generator)!)', '\\x\(tag)', '\(uid.last4)')")
                }
                let burst = cluster.psql("""
                    INSERT INTO card (site_id, resident_id, uid_tag, uid_last4) VALUES \(values.joined(separator: ", "));
                    DELETE FROM card WHERE id IN (SELECT id FROM card WHERE resident_id <> '\(steady)' ORDER BY random() LIMIT \(removes));
                    """)
                guard burst.succeeded else { throw FleetTestError("hub burst: \(burst.stderr)") }
                let removed = min(removes, cards + adds)
                cards += adds - removed
                changes += adds + removed
                usleep(useconds_t.random(in: 100_000...250_000, using: &generator))
            }
            return changes
        }
        // Access events at the gate all along (refused while it is down: then none is made).
        let events = Thread {
            while !stop.isSet {
                if gate.card("5EAD0001") != "granted" { usleep(20_000) }
            }
        }
        events.start()

        // 50 kills: every other one when the log says a batch was pulled (then the apply is running), the others
        // when it says events are being pushed, each after a random 0–10 ms (apply) or 0–3 ms (push); a kill waits
        // at most 3 s for its line and then lands at a random 5–300 ms.
        var landed: [Phase: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        gate.stop()  // the daemon fleet() started: each round below starts its own and kills it
        let startsBefore = logLines(gate.log, from: 0).filter { $0.contains("optgated starting") }.count
        for round in 0..<50 {
            let offset = fileSize(gate.log)
            try gate.launch(wait: false)
            let marker = round % 2 == 0 ? "fleet batch pulled" : "fleet events pushing"
            let seen = eventually(within: 3, every: 1_000) { logLines(gate.log, from: offset).contains { $0.contains(marker) } }
            let within: ClosedRange<useconds_t> = round % 2 == 0 ? 0...10_000 : 0...3_000
            usleep(seen ? useconds_t.random(in: within, using: &generator) : useconds_t.random(in: 5_000...300_000, using: &generator))
            gate.stop()
            let last = logLines(gate.log, from: offset).last { $0.contains("fleet batch ") || $0.contains("fleet events ") }
            let phase: Phase = last.map { $0.contains("fleet batch pulled") ? .apply : $0.contains("fleet events pushing") ? .push : .other } ?? .other
            landed[phase, default: 0] += 1
        }
        stop.set()
        // Every round's daemon really started (a second one on the same state would refuse and exit at once, and
        // the kills would then land on nothing).
        let starts = logLines(gate.log, from: 0).filter { $0.contains("optgated starting") }.count - startsBefore
        #expect(starts == 50, "daemons started in the 50 rounds: \(starts)")
        let changes = try await driver.value
        while !events.isFinished { usleep(10_000) }

        // Back up for good: it catches up with the hub and pushes what is left.
        try gate.launch()
        let latest = try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in try await hub.latestChange() }
        let converged = try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if try await hub.appliedSequences()["g1"] == latest, try await hub.eventCounts()["g1"] == gate.localEventCount() { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        #expect(converged, "the gate reports the hub's newest change \(latest) applied and its events are all at the hub")

        // The replica is the hub's directory: every resident and card, each exactly once, at the hub's sequence.
        #expect(gateSQL(gate, "SELECT appliedSeq FROM fleetSync") == ["\(latest)"], "applied seq")
        let hubCards = cluster.psql("SELECT resident_id || '|' || upper(encode(uid_tag, 'hex')) FROM card ORDER BY 1").stdout
            .split(separator: "\n").map(String.init)
        let gateCards = gateSQL(gate, "SELECT residentId || '|' || hex(uidTag) FROM card ORDER BY 1")
        #expect(hubCards.count > 50)
        #expect(gateCards == hubCards, "cards: gate \(gateCards.count), hub \(hubCards.count), gate-only \(Set(gateCards).subtracting(hubCards).count), hub-only \(Set(hubCards).subtracting(gateCards).count)")
        #expect(Set(gateCards).count == gateCards.count, "no card row twice at the gate")
        let hubResidents = cluster.psql("SELECT id || '|' || display_name || '|' || unit FROM resident ORDER BY 1").stdout
            .split(separator: "\n").map(String.init)
        #expect(gateSQL(gate, "SELECT id || '|' || displayName || '|' || unit FROM resident ORDER BY 1") == hubResidents)

        // The hub holds each of the gate's access events and alarms once: the same local seqs and results.
        let hubEvents = cluster.psql("""
            SELECT e.local_seq || '|' || e.category || '|' || coalesce(e.result, '') FROM event e JOIN gate g ON g.id = e.gate_id
            WHERE g.name = 'g1' ORDER BY e.local_seq
            """).stdout.split(separator: "\n").map(String.init)
        let gateEvents = gateSQL(gate, """
            SELECT seq || '|' || category || '|' || coalesce(result, '') FROM auditEntry
            WHERE category IN ('access', 'alarm') AND redactedBy IS NULL ORDER BY seq
            """)
        // How many decisions fit between the kills depends on the machine's load (46–86 seen); what matters is that
        // there were enough for kills to land inside their push, which the check on `landed` below asserts.
        #expect(gateEvents.count > 20, "access events were made between the kills (\(gateEvents.count))")
        #expect(hubEvents == gateEvents, "events: gate \(gateEvents.count), hub \(hubEvents.count)")
        let unique = cluster.psql("SELECT count(*) = count(DISTINCT (gate_id, local_seq)) FROM event").line
        #expect(unique == "t")

        #expect((landed[.apply] ?? 0) > 0 && (landed[.push] ?? 0) > 0, "kills landed inside apply and inside push: \(landed)")
        let wall = Double((ContinuousClock.now - wallStart) / .milliseconds(1)) / 1000
        print("fleet kill -9 ×50: \(changes) hub changes, \(gateEvents.count) gate events; kills "
              + Phase.allCases.map { "\($0.rawValue) \(landed[$0] ?? 0)" }.joined(separator: ", ")
              + String(format: "; test %.0f s", wall))
    }

    /// A gate killed after a batch committed locally but before it told the hub: on restart it reports its sequence
    /// even when the hub has nothing new for it (else `gate list` and fan-out waits show it behind for good).
    @Test func aGateKilledBetweenApplyAndReportReportsItsSequenceOnRestart() async throws {
        let (cluster, gates) = try FleetEndToEndTests.fleet(gates: ["g1"])
        let gate = gates[0]
        defer { gate.stop() }
        let resident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        try #require(eventually(within: 5) { gateSQL(gate, "SELECT count(*) FROM resident") == ["1"] })
        gate.stop()

        // The change the gate misses, applied to its store as the daemon would, and the daemon killed before reporting.
        try #require(cluster.cli(["card", "add", resident, "--uid", "04A1B2C3"]).succeeded)
        let endpoint = try GateCredentials.load(path: "\(gate.directory).credentials").endpoint()
        let latest = try await Hub.with(endpoint, logger: Fleet.logger) { hub in
            let store = try GateDatabase(stateDirectory: gate.directory)
            let batch = try #require(try await hub.pull(after: try store.fleetAppliedSeq()))
            try store.applyReplica(batch)
            return batch.lastSeq
        }
        try gate.launch()
        #expect(gate.card("04A1B2C3") == "granted")
        let reported = try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                if try await hub.appliedSequences()["g1"] == latest { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        #expect(reported, "the hub learns the gate applied \(latest)")
    }
}
