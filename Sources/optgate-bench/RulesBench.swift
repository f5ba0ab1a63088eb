// optgate-bench rules: card → relay-effect and PIN → relay-effect latency through the real decision loop
// (`GateService` with a relay that notes when it is energised), with and without access rules.
import Foundation
import GateConfiguration
import GateCore
import GateServices
@_spi(Benchmark) import GateStore
import Logging

/// A relay that remembers when it was last energised.
final class TimingRelay: Relay, @unchecked Sendable {
    private let lock = NSLock()
    private var energized = false
    private var energizedAt: ContinuousClock.Instant?

    func set(energized value: Bool) throws {
        lock.withLock {
            if value && !energized { energizedAt = ContinuousClock.now }
            energized = value
        }
    }

    var isEnergized: Bool { lock.withLock { energized } }
    func takeEnergizedAt() -> ContinuousClock.Instant? { lock.withLock { defer { energizedAt = nil }; return energizedAt } }
}

func rulesBench(_ arguments: [String]) throws {
    var runs = 200, pinRuns = 20
    var rest = arguments
    while !rest.isEmpty {
        let flag = rest.removeFirst()
        guard !rest.isEmpty, let value = Int(rest.removeFirst()) else { throw Failure("\(flag) needs a number") }
        switch flag {
        case "--runs": runs = value
        case "--pin-runs": pinRuns = value
        default: throw Failure("unknown option \(flag)")
        }
    }
    let configuration = try DaemonConfiguration(json: Data("""
        {"doors": [{"name": "main", "methods": ["card", "pin"], "relay": {"pulseSeconds": 0.1}}],
         "keypad": {"mode": "pin", "lockoutFailures": 100, "doorLockoutFailures": 1000}}
        """.utf8))
    let scenarios: [(name: String, residents: Int, groups: Int, profiles: Int)] = [
        ("1 resident, no rules", 1, 0, 0),
        ("10,000 residents, no rules", 10_000, 0, 0),
        ("10,000 residents, 50 groups, 100 profiles", 10_000, 50, 100),
    ]
    var lines = ["| decision → relay effect (\(runs) cards, \(pinRuns) PINs)                  |  p50 ms  |  p95 ms  | ratio p50 / p95 | target |",
                 "|--------------------------------------------------------------|----------|----------|-----------------|--------|"]
    var baseline: (Double, Double)?
    for scenario in scenarios {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("optgate-bench-rules-\(getpid())-\(scenario.residents)-\(scenario.groups)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let database = try GateDatabase(stateDirectory: state)
        try database.seedRulesForBenchmark(residents: scenario.residents, groups: scenario.groups, profiles: scenario.profiles)
        let pin = PIN("73915046")!
        try database.setPIN(residentID: "rbench0", pin: pin, operator: "bench")
        let relay = TimingRelay()
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let gate = GateService(configuration: configuration, database: database, relays: ["main": relay], clock: ContinuousClock(),
                               logger: logger, simulated: true)
        let task = Task { try await gate.run() }
        defer { task.cancel() }
        Thread.sleep(forTimeInterval: 0.5)

        func once(_ present: () -> Void) throws -> Double {
            while relay.isEnergized { usleep(1000) }
            _ = relay.takeEnergizedAt()
            Thread.sleep(forTimeInterval: 0.02)
            let start = ContinuousClock.now
            present()
            let deadline = start.advanced(by: .seconds(5))
            while ContinuousClock.now < deadline {
                if let at = relay.takeEnergizedAt() { return milliseconds(start.duration(to: at)) }
                usleep(20)
            }
            throw Failure("\(scenario.name): the door did not open")
        }
        let uid = CardUID("B0000000")!
        _ = try once { gate.submit(.card(door: "main", uid: uid)) }
        var cards: [Double] = []
        for _ in 0..<runs { cards.append(try once { gate.submit(.card(door: "main", uid: uid)) }) }
        cards.sort()
        var pins: [Double] = []
        for _ in 0..<pinRuns {
            for digit in "73915046" { gate.submit(.key(door: "main", .digit(UInt8(String(digit))!))) }
            pins.append(try once { gate.submit(.key(door: "main", .submit)) })
        }
        pins.sort()
        let p50 = percentile(cards, 0.5), p95 = percentile(cards, 0.95)
        var ratio = ""
        if scenario.residents == 10_000 {
            if let (b50, b95) = baseline { ratio = String(format: "%.2f / %.2f", p50 / b50, p95 / b95) } else { baseline = (p50, p95) }
        }
        let target = scenario.groups > 0 ? "≤ 1.2" : ""
        lines.append("| card: \(scenario.name)".padding(toLength: 63, withPad: " ", startingAt: 0)
                     + "| \(String(format: "%8.2f", p50)) | \(String(format: "%8.2f", p95)) | \(ratio.padding(toLength: 15, withPad: " ", startingAt: 0)) | \(target.padding(toLength: 6, withPad: " ", startingAt: 0)) |")
        lines.append("| PIN (scrypt): \(scenario.name)".padding(toLength: 63, withPad: " ", startingAt: 0)
                     + "| \(String(format: "%8.2f", percentile(pins, 0.5))) | \(String(format: "%8.2f", percentile(pins, 0.95))) | \("".padding(toLength: 15, withPad: " ", startingAt: 0)) | ≤ 150  |")
    }
    print(lines.joined(separator: "\n"))
}
