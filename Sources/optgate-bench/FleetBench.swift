// `optgate-bench fleet`: many light gates against one PostgreSQL hub (docs/fleet.md#capacity, scripts/bench-fleet).
//
// Each simulated gate is the daemon's own `FleetSyncService` (HubReplica pull → `GateDatabase.applyReplica` into
// its own SQLite file → receipts, `reportApplied`, event push), logged in as its own gate role, with its own state
// directory — everything of a gate but the doors, readers and camera. The hub is the PostgreSQL 15 cluster that
// scripts/bench-fleet starts with scripts/pg-test-cluster. Phases:
//   1. revocation fan-out: a card deleted at the hub → every gate of the site has applied the change in its SQLite
//      (seen through the service's own "fleet batch applied" log line, no polling of the replicas);
//   2. event ingest: every gate has local access decisions in its audit log, one hub change wakes them all, and
//      they push at once; events/s until the hub holds all, then each gate's count is checked (exactly once) and
//      one gate's push is repeated (must insert nothing);
//   3. catch-up: a gate offline while its site took `--catchup` changes is started; time until it has applied all.
// The hub's CPU time and RSS/PSS (sum over the postmaster and its children, from /proc) are measured per phase.
// Exit status 1 when a gate did not converge or an event was lost or duplicated; a missed target is printed only.
@_spi(Benchmark) import GateStore
import Foundation
import GateConfiguration
import GateCore
import GateHub
import GateServices
import Logging
import PostgresNIO
import Synchronization

struct FleetBenchOptions {
    var hub = ""
    var clusterDirectory: String?
    var clients = 200
    var residents = 500
    var revocations = 100
    var events = 250
    var catchup = 10_000
    var pollSeconds = 5.0
    var workDirectory: String?
    var timeout = 300.0

    init(_ arguments: [String]) throws {
        var rest = arguments
        while !rest.isEmpty {
            let flag = rest.removeFirst()
            guard !rest.isEmpty else { throw Failure("\(flag) needs a value") }
            let value = rest.removeFirst()
            func number() throws -> Int {
                guard let number = Int(value), number >= 0 else { throw Failure("\(flag) needs a whole number, not \(value)") }
                return number
            }
            switch flag {
            case "--hub": hub = value
            case "--cluster-dir": clusterDirectory = value
            case "--clients": clients = try number()
            case "--residents": residents = try number()
            case "--revocations": revocations = try number()
            case "--events": events = try number()
            case "--catchup": catchup = try number()
            case "--poll": pollSeconds = Double(value) ?? pollSeconds
            case "--work-dir": workDirectory = value
            case "--timeout": timeout = Double(value) ?? timeout
            default: throw Failure("unknown option \(flag)")
            }
        }
        guard !hub.isEmpty else {
            throw Failure("usage: optgate-bench fleet --hub postgresql://127.0.0.1:PORT/optgate [--cluster-dir DIR] [--clients 200] "
                          + "[--residents 500] [--revocations 100] [--events 250] [--catchup 10000] [--poll 5] [--work-dir DIR]")
        }
        guard clients >= 1, residents >= revocations else { throw Failure("need --clients ≥ 1 and --residents ≥ --revocations") }
    }
}

/// Runs the benchmark on the cooperative pool while the (synchronous) top level waits.
func fleetBench(_ arguments: [String]) throws {
    let options = try FleetBenchOptions(arguments)
    final class Outcome: Sendable { let value = Mutex<Result<Bool, any Error>?>(nil) }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let passed = try await FleetBench(options: options).run()
            outcome.value.withLock { $0 = .success(passed) }
        } catch {
            outcome.value.withLock { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    guard try outcome.value.withLock({ $0 })!.get() else { throw Failure("the fleet did not converge or an event was lost or duplicated") }
}

/// Which hub sequence each simulated gate has applied, and when it got there, from the service's own log line.
final class ApplyTracker: Sendable {
    struct Applied {
        var latest: [Int64]
        var history: [[(seq: Int64, at: ContinuousClock.Instant)]]
        var batches: [Int]
        var synced: Set<Int> = []
    }

    let state: Mutex<Applied>
    /// Set while the gates are being stopped: their "notification stream ended" warnings are expected then.
    let stopping = Atomic<Bool>(false)

    init(gates: Int) {
        state = Mutex(Applied(latest: Array(repeating: 0, count: gates), history: Array(repeating: [], count: gates),
                              batches: Array(repeating: 0, count: gates)))
    }

    func applied(gate: Int, seq: Int64) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.latest[gate] = max(state.latest[gate], seq)
            state.history[gate].append((seq, now))
            state.batches[gate] += 1
        }
    }

    func forget() {
        state.withLock { state in
            for gate in state.history.indices { state.history[gate].removeAll(keepingCapacity: true) }
            for gate in state.batches.indices { state.batches[gate] = 0 }
        }
    }

    func synced(gate: Int) { _ = state.withLock { $0.synced.insert(gate) } }
    func syncedCount() -> Int { state.withLock { $0.synced.count } }
    func forgetSynced() { state.withLock { $0.synced.removeAll() } }

    func lowest(_ gates: Range<Int>) -> Int64 { state.withLock { state in gates.map { state.latest[$0] }.min() ?? 0 } }

    /// When each gate first applied a batch reaching `seq`.
    func reached(_ seq: Int64, gates: Range<Int>) -> [ContinuousClock.Instant?] {
        state.withLock { state in gates.map { gate in state.history[gate].first { $0.seq >= seq }?.at } }
    }

    func batches(_ gate: Int) -> Int { state.withLock { $0.batches[gate] } }
}

/// The daemon's logger for one simulated gate: notes "fleet batch applied" (debug) for the tracker, prints
/// warnings and errors.
struct ApplyLogHandler: LogHandler {
    let gate: Int
    let tracker: ApplyTracker
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let message = event.message.description
        if message == "fleet batch applied" {
            if let value = event.metadata?["fleet.seq"], let seq = Int64("\(value)") { tracker.applied(gate: gate, seq: seq) }
        } else if message == "fleet hub in sync" {
            tracker.synced(gate: gate)
        } else if event.level >= .warning && !tracker.stopping.load(ordering: .relaxed) {
            FileHandle.standardError.write(Data("gate \(gate): \(event.level) \(event.message) \(event.metadata ?? [:])\n".utf8))
        }
    }
}

/// One simulated gate: credentials, its own state directory and SQLite store, and the daemon's sync service.
final class BenchGate: @unchecked Sendable {
    let index: Int
    let credentials: GateCredentials
    let database: GateDatabase
    let configuration: FleetConfiguration
    private var task: Task<Void, Never>?

    init(index: Int, credentials: GateCredentials, directory: String, pollSeconds: Double) throws {
        self.index = index
        self.credentials = credentials
        database = try GateDatabase(stateDirectory: directory)
        let section = """
            {"fleet": {"hub": "\(credentials.hub)", "credentialsFile": "\(directory)/hub.credentials", "site": "\(credentials.site)",
                       "gate": "\(credentials.gate)", "staleAfterSeconds": 3600, "pollSeconds": \(pollSeconds)}}
            """
        guard let fleet = try DaemonConfiguration(json: Data(section.utf8)).fleet else { throw Failure("no fleet section parsed") }
        configuration = fleet
    }

    /// - Parameter pollSeconds: replaces the configured poll interval (the event phase: only the hub's NOTIFY wakes).
    func start(tracker: ApplyTracker, pollSeconds: Double? = nil) {
        var configuration = configuration
        if let pollSeconds { configuration.poll = .milliseconds(Int64(pollSeconds * 1000)) }
        let logger = Logger(label: "optgate.fleet.\(credentials.gate)") { [index] _ in ApplyLogHandler(gate: index, tracker: tracker) }
        let service = FleetSyncService(configuration: configuration, credentials: credentials, database: database, health: HealthBoard(),
                                       logger: logger)
        task = Task { _ = try? await service.run() }
    }

    func stop() async {
        task?.cancel()
        await task?.value
        task = nil
    }
}

/// The gates started so far, stopped on every way out (a PostgreSQL connection must be closed before it goes).
final class GateList: @unchecked Sendable {
    private var gates: [BenchGate] = []
    private var tracker: ApplyTracker?

    func set(_ gates: [BenchGate], tracker: ApplyTracker) {
        self.gates = gates
        self.tracker = tracker
    }

    func stopAll() async {
        tracker?.stopping.store(true, ordering: .relaxed)
        for gate in gates { await gate.stop() }
        gates = []
    }
}

/// CPU time and memory of the hub: the postmaster and every process it forked (backends, walwriter, …).
struct HubProcesses {
    let postmaster: Int32?
    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    init(clusterDirectory: String?) {
        let pidFile = clusterDirectory.flatMap { try? String(contentsOfFile: "\($0)/data/postmaster.pid", encoding: .utf8) }
        postmaster = pidFile?.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
    static func stat(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(close, offsetBy: 2)...].split(separator: " ")
    }

    func members() -> [Int32] {
        guard let postmaster else { return [] }
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return [postmaster] + pids.filter { pid in Self.stat(pid).map { $0.count > 1 && Int32($0[1]) == postmaster } ?? false }
    }

    /// Seconds of CPU used by the hub so far (children that exited are in the postmaster's cutime/cstime).
    func cpuSeconds() -> Double {
        guard let postmaster else { return 0 }
        var ticks = 0.0
        for pid in members() {
            guard let fields = Self.stat(pid), fields.count > 14 else { continue }
            ticks += Double(fields[11])! + Double(fields[12])!
            if pid == postmaster { ticks += Double(fields[13])! + Double(fields[14])! }
        }
        return ticks / Self.ticks
    }

    /// Sum of VmRSS and of Pss (shared buffers counted once, shared among the processes) in KiB.
    func memory() -> (rss: Int, pss: Int) {
        var rss = 0, pss = 0
        func field(_ name: String, in path: String) -> Int {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        for pid in members() {
            rss += field("VmRSS:", in: "/proc/\(pid)/status")
            pss += field("Pss:", in: "/proc/\(pid)/smaps_rollup")
        }
        return (rss, pss)
    }

    static func ownCPUSeconds() -> Double {
        guard let fields = stat(getpid()), fields.count > 12 else { return 0 }
        return (Double(fields[11])! + Double(fields[12])!) / ticks
    }
}

/// The hub's and the clients' use of the machine during one phase.
final class PhaseMeter: @unchecked Sendable {
    let hub: HubProcesses
    private let peak = Mutex<(rss: Int, pss: Int)>((0, 0))
    private var sampler: Task<Void, Never>?
    private var start: (hub: Double, own: Double, clock: ContinuousClock.Instant) = (0, 0, .now)

    init(hub: HubProcesses) { self.hub = hub }

    func begin() {
        peak.withLock { $0 = hub.memory() }
        start = (hub.cpuSeconds(), HubProcesses.ownCPUSeconds(), .now)
        sampler = Task.detached { [self] in
            while !Task.isCancelled {
                let now = hub.memory()
                self.peak.withLock { $0 = (max($0.rss, now.rss), max($0.pss, now.pss)) }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// "hub CPU s (share of one core) | hub RSS / PSS peak MiB | clients CPU s".
    func end() -> String {
        sampler?.cancel()
        let wall = ContinuousClock.now - start.clock
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let hubCPU = hub.cpuSeconds() - start.hub
        let own = HubProcesses.ownCPUSeconds() - start.own
        let (rss, pss) = peak.withLock { $0 }
        guard hub.postmaster != nil else { return String(format: "n/a | n/a | %.1f s", own) }
        return String(format: "%.1f s (%.0f%% of a core) | %ld / %ld | %.1f s", hubCPU, 100 * hubCPU / max(seconds, 0.001), rss / 1024,
                      pss / 1024, own)
    }
}

struct FleetBench {
    let options: FleetBenchOptions
    let logger = Logger(label: "optgate-bench.fleet") { _ in SwiftLogNoOpLogHandler() }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Waits until every gate in `gates` has applied `seq`; false after `options.timeout`.
    func converge(_ tracker: ApplyTracker, _ gates: Range<Int>, to seq: Int64) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(options.timeout)
        while tracker.lowest(gates) < seq {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    func run() async throws -> Bool {
        let admin = try HubEndpoint(url: options.hub)
        _ = try await Hub.initialize(admin, logger: logger)
        let hub = try await Hub.connect(admin, logger: logger)
        let sql: PostgresConnection
        do {
            sql = try await PostgresConnection.connect(
                configuration: .init(host: admin.host ?? "127.0.0.1", port: admin.port, username: admin.user, password: admin.password,
                                     database: admin.database, tls: .disable),
                id: 2, logger: logger)
        } catch {
            await hub.close()
            throw error
        }
        let gates = GateList()
        do {
            let passed = try await phases(hub: hub, sql: sql, gates: gates)
            await gates.stopAll()
            await hub.close()
            try? await sql.close()
            return passed
        } catch {
            await gates.stopAll()
            await hub.close()
            try? await sql.close()
            throw error
        }
    }

    func phases(hub: Hub, sql: PostgresConnection, gates started: GateList) async throws -> Bool {
        @discardableResult
        func exec(_ query: PostgresQuery) async throws -> [PostgresRow] { try await sql.query(query, logger: logger).collect() }
        /// The newest change of one site: what its gates' applied sequence reaches.
        func siteLatest(_ site: Int64) async throws -> Int64 {
            try await exec("SELECT coalesce(max(seq), 0) FROM change WHERE site_id = \(site)")[0].decode(Int64.self)
        }
        let work = options.workDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("optgate-fleet-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if options.workDirectory == nil { try? FileManager.default.removeItem(atPath: work) } }
        var passed = true
        func fail(_ message: String) {
            FileHandle.standardError.write(Data("optgate-bench fleet: \(message)\n".utf8))
            passed = false
        }

        // The fleet: one site whose gates all take every revocation, one site for the gate that falls behind.
        let setupStart = ContinuousClock.now
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let site = "bench-\(tag)", catchupSite = "bench-catchup-\(tag)"
        try await hub.addSite(name: site)
        try await hub.addSite(name: catchupSite)
        let siteID = try await exec("SELECT id FROM site WHERE name = \(site)")[0].decode(Int64.self)
        let catchupSiteID = try await exec("SELECT id FROM site WHERE name = \(catchupSite)")[0]
            .decode(Int64.self)
        var gates: [BenchGate] = []
        for index in 0..<options.clients {
            let credentials = try await hub.addGate(name: "\(site)-g\(index)", site: site)
            gates.append(try BenchGate(index: index, credentials: credentials, directory: "\(work)/g\(index)", pollSeconds: options.pollSeconds))
        }
        let laggard = try BenchGate(index: options.clients, credentials: try await hub.addGate(name: "\(catchupSite)-g0", site: catchupSite),
                                    directory: "\(work)/catchup", pollSeconds: options.pollSeconds)
        // The directory: residents with one card each (the tags random: no gate reads a card here).
        try await exec("""
            INSERT INTO resident (id, site_id, display_name, unit)
            SELECT 'b' || \(tag) || '-' || g, \(siteID), 'Resident ' || g, 'U' || g FROM generate_series(1, \(options.residents)) g
            """)
        try await exec("""
            INSERT INTO card (site_id, resident_id, uid_tag, uid_last4)
            SELECT \(siteID), 'b' || \(tag) || '-' || g, decode(md5(\(tag) || g), 'hex'), lpad(g::text, 4, '0')
            FROM generate_series(1, \(options.residents)) g
            """)
        // The laggard's site has one resident, so it has applied something before it goes offline.
        try await exec("""
            INSERT INTO resident (id, site_id, display_name, unit) VALUES (\("c\(tag)-0"), \(catchupSiteID), 'Resident 0', 'U0')
            """)
        let tracker = ApplyTracker(gates: options.clients + 1)
        started.set(gates + [laggard], tracker: tracker)
        for gate in gates { gate.start(tracker: tracker) }
        laggard.start(tracker: tracker)
        let initial = try await siteLatest(siteID), initialCatchup = try await siteLatest(catchupSiteID)
        guard try await converge(tracker, 0..<options.clients, to: initial),
              try await converge(tracker, options.clients..<(options.clients + 1), to: initialCatchup) else {
            fail("the initial sync did not finish in \(options.timeout) s")
            return false
        }
        let setup = seconds(ContinuousClock.now - setupStart)

        let hubProcesses = HubProcesses(clusterDirectory: options.clusterDirectory)
        var rows: [String] = []
        let meter = PhaseMeter(hub: hubProcesses)

        // 1. Revocation fan-out: one card deleted at the hub at a time, timed until every gate applied it.
        tracker.forget()
        meter.begin()
        var toAll: [Double] = [], perGate: [Double] = []
        for index in 0..<options.revocations {
            let resident = "b\(tag)-\(index + 1)"
            let committed = ContinuousClock.now
            try await exec("DELETE FROM card WHERE resident_id = \(resident)")
            let seq = try await siteLatest(siteID)
            guard try await converge(tracker, 0..<options.clients, to: seq) else {
                fail("revocation \(index + 1) did not reach every gate in \(options.timeout) s")
                return false
            }
            let reached = tracker.reached(seq, gates: 0..<options.clients).map { milliseconds(committed.duration(to: $0!)) }
            toAll.append(reached.max()!)
            perGate += reached
            tracker.forget()
            try await Task.sleep(for: .milliseconds(20))
        }
        let fanoutUse = meter.end()
        toAll.sort()
        perGate.sort()
        if !toAll.isEmpty {
            let p99 = percentile(toAll, 0.99)
            rows.append(fleetRow("revocation → applied at all \(options.clients) gates (\(options.revocations) revocations)",
                                 String(format: "p50 %.0f ms, p99 %.0f ms", percentile(toAll, 0.5), p99),
                                 "p99 ≤ 2 s" + (p99 <= 2000 ? "" : " MISSED"), fanoutUse))
            rows.append(fleetRow("  the same, per gate (\(perGate.count) samples)",
                                 String(format: "p50 %.0f ms, p99 %.0f ms", percentile(perGate, 0.5), percentile(perGate, 0.99)), "", ""))
        }
        // Every replica lost exactly the revoked cards.
        for gate in gates {
            let withCards = try gate.database.residents().filter { !$0.cards.isEmpty }.count
            if withCards != options.residents - options.revocations {
                fail("gate \(gate.index) holds \(withCards) residents with a card, not \(options.residents - options.revocations)")
                break
            }
        }

        // 2. Event ingest: every gate has `events` local decisions; one hub change wakes them all at once.
        if options.events > 0 {
            // The gates restart with no poll tick (only NOTIFY wakes them), so none pushes its backlog early.
            tracker.stopping.store(true, ordering: .relaxed)
            for gate in gates { await gate.stop() }
            tracker.stopping.store(false, ordering: .relaxed)
            tracker.forgetSynced()
            for gate in gates { gate.start(tracker: tracker, pollSeconds: 3600) }
            let reconnect = ContinuousClock.now + .seconds(options.timeout)
            while tracker.syncedCount() < options.clients && ContinuousClock.now < reconnect {
                try await Task.sleep(for: .milliseconds(20))
            }
            var lastLocal: [Int64] = []
            for gate in gates {
                lastLocal.append(try gate.database.recordAccessEventsForBenchmark(count: options.events, door: "main",
                                                                                 residentID: "b\(tag)-\(options.residents)"))
            }
            let expected = Int64(options.clients * options.events)
            let before = try await exec("SELECT count(*) FROM event WHERE site_id = \(siteID)")[0]
                .decode(Int64.self)
            meter.begin()
            let start = ContinuousClock.now
            let woken = "b\(tag)-\(options.residents)"
            try await exec("UPDATE resident SET unit = unit WHERE id = \(woken)")
            var held = before
            let deadline = ContinuousClock.now + .seconds(options.timeout)
            while held < expected && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                held = try await exec("SELECT count(*) FROM event WHERE site_id = \(siteID)")[0]
                    .decode(Int64.self)
            }
            let elapsed = seconds(ContinuousClock.now - start)
            let ingestUse = meter.end()
            let rate = Double(Int(held) - Int(before)) / elapsed
            rows.append(fleetRow("events ingested, \(options.clients) gates × \(options.events) pushing at once (one NOTIFY wakes all)",
                                 String(format: "%.0f events/s (%ld in %.2f s)", rate, Int(held) - Int(before), elapsed),
                                 "≥ 5,000/s" + (rate >= 5000 ? "" : " MISSED"), ingestUse))
            // Exactly once: each gate's events are all there, once each, up to its last local sequence.
            let counts = try await exec("""
                SELECT g.name, count(*)::bigint, count(DISTINCT e.local_seq)::bigint, max(e.local_seq)
                FROM event e JOIN gate g ON g.id = e.gate_id WHERE e.site_id = \(siteID) GROUP BY g.name
                """)
            var byGate: [String: (Int64, Int64, Int64)] = [:]
            for row in counts {
                let (name, count, distinct, last) = try row.decode((String, Int64, Int64, Int64).self)
                byGate[name] = (count, distinct, last)
            }
            for gate in gates {
                let (count, distinct, last) = byGate[gate.credentials.gate] ?? (0, 0, 0)
                if count != options.events || distinct != count || last != lastLocal[gate.index] {
                    fail("gate \(gate.index): the hub holds \(count) events (\(distinct) distinct, last \(last)), not \(options.events) up to \(lastLocal[gate.index])")
                }
            }
            // A push repeated after a lost acknowledgement stores nothing again.
            let again = try await Hub.with(try gates[0].credentials.endpoint(), logger: logger) { hub in
                try await hub.push(try gates[0].database.localEvents(after: 0, limit: options.events + 10))
            }
            if again != 0 { fail("repeating gate 0's push inserted \(again) events again") }
            // Back to the configured poll: the catch-up runs beside 200 gates polling as daemons do.
            tracker.stopping.store(true, ordering: .relaxed)
            for gate in gates { await gate.stop() }
            tracker.stopping.store(false, ordering: .relaxed)
            for gate in gates { gate.start(tracker: tracker) }
        }

        // 3. Catch-up: the laggard goes offline, its site takes `catchup` changes, it comes back.
        if options.catchup > 0 {
            tracker.stopping.store(true, ordering: .relaxed)
            await laggard.stop()
            tracker.stopping.store(false, ordering: .relaxed)
            let residents = options.catchup / 2, cards = options.catchup - options.catchup / 2
            try await exec("""
                INSERT INTO resident (id, site_id, display_name, unit)
                SELECT 'c' || \(tag) || '-' || g, \(catchupSiteID), 'Resident ' || g, 'U' || g FROM generate_series(1, \(residents)) g
                """)
            try await exec("""
                INSERT INTO card (site_id, resident_id, uid_tag, uid_last4)
                SELECT \(catchupSiteID), 'c' || \(tag) || '-' || (1 + (g - 1) % \(max(residents, 1))), decode(md5('c' || \(tag) || g), 'hex'), lpad(g::text, 4, '0')
                FROM generate_series(1, \(cards)) g
                """)
            let latest = try await siteLatest(catchupSiteID)
            let missed = try await exec("SELECT count(*) FROM change WHERE site_id = \(catchupSiteID) AND seq > \(tracker.lowest(options.clients..<(options.clients + 1)))")[0].decode(Int64.self)
            tracker.forget()
            meter.begin()
            let start = ContinuousClock.now
            laggard.start(tracker: tracker)
            guard try await converge(tracker, options.clients..<(options.clients + 1), to: latest) else {
                fail("the laggard did not catch up in \(options.timeout) s")
                return false
            }
            let elapsed = seconds(ContinuousClock.now - start)
            let catchupUse = meter.end()
            rows.append(fleetRow("catch-up of a gate that missed \(missed.formatted()) changes (\(tracker.batches(options.clients)) batches)",
                                 String(format: "%.2f s", elapsed), "≤ 10 s" + (elapsed <= 10 ? "" : " MISSED"), catchupUse))
            let held = try laggard.database.residents()
            if held.count != residents + 1 || held.reduce(0, { $0 + $1.cards.count }) != cards {
                fail("the laggard holds \(held.count) residents and \(held.reduce(0, { $0 + $1.cards.count })) cards, not \(residents + 1) and \(cards)")
            }
        }

        await started.stopAll()

        print("optgate fleet: \(options.clients) gates (the daemon's FleetSyncService each, own role, own SQLite) + 1 catching up, "
              + "one PostgreSQL 15 hub, \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])), "
              + "\(options.residents) residents, poll \(options.pollSeconds) s, replicas in \(work); "
              + "setup and first sync \(String(format: "%.1f", setup)) s")
        print("")
        print("| measure | result | target | hub CPU | hub RSS / PSS peak MiB | clients CPU |")
        print("|---|---|---|---|---|---|")
        for row in rows { print(row) }
        print("")
        print(passed ? "every gate converged; every event arrived exactly once" : "FAILED: see the messages above")
        return passed
    }

    func fleetRow(_ name: String, _ result: String, _ target: String, _ use: String) -> String {
        "| \(name) | \(result) | \(target) | \(use.isEmpty ? " |  | " : use) |"
    }
}
