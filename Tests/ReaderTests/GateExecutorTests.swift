import Foundation
import GateCore
import GateServices
import GateStore
import Logging
import Testing

/// A credential directory whose lookups block until the test lets them go, as a slow scrypt check would.
private final class HeldDirectory: CredentialDirectory, @unchecked Sendable {
    let release = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var asked = 0

    var lookups: Int { lock.withLock { asked } }

    func answer(_ query: CredentialQuery) -> LookupAnswer {
        lock.withLock { asked += 1 }
        release.wait()
        return .card(CredentialHolder(residentID: "r1", validUntil: nil))
    }
}

/// `GateService` as the executor of the gate machine: relay effects never wait behind store work.
@Suite struct GateExecutorTests {
    @Test func fireReleasesTheDoorWhileACardLookupIsHeldOpen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-exec-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try GateDatabase(stateDirectory: directory)
        let relay = SimulatedRelay()
        let held = HeldDirectory()
        let gate = GateService(configuration: .defaults, database: database, relays: ["main": relay], clock: ContinuousClock(),
                               logger: Logger(label: "test"), simulated: true, directory: held)
        let running = Task { try await gate.run() }
        defer { running.cancel() }

        gate.submit(.card(door: "main", uid: CardUID("04A1B2C3D4E5F6")!))
        #expect(await within(.seconds(5)) { held.lookups == 1 }, "the card's lookup is on the store queue")
        gate.submit(.fire(door: nil, active: true))
        #expect(await within(.seconds(2)) { relay.isEnergized }, "fire released the door while the lookup was held")
        #expect(held.lookups == 1)
        held.release.signal()
        gate.submit(.fire(door: nil, active: false))
        #expect(await within(.seconds(5)) { !relay.isEnergized })
        running.cancel()
        _ = try? await running.value
    }

    /// Polls `condition` until it holds or `limit` passes.
    private func within(_ limit: Duration, _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while clock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
