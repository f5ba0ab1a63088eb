import Foundation
import GRDB
import GateCore
import GateStore

/// A real store in a fresh temporary state directory, plus raw access to its files the way someone
/// with the `sqlite3` tool or a hex editor would have it.
final class StoreFixture: @unchecked Sendable {
    let directory: String
    let store: GateDatabase
    let clock = TestWallClock()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("optgate-store-\(UUID().uuidString)").path
        let clock = self.clock
        store = try GateDatabase(stateDirectory: directory, now: { clock.now })
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A second, independent connection, as an attacker or an auditor would open the file.
    func raw() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: store.databasePath, configuration: configuration)
    }

    /// The bytes of the database file and its write-ahead log.
    func fileBytes() -> [Data] {
        ["", "-wal"].compactMap { FileManager.default.contents(atPath: store.databasePath + $0) }
    }

    func filesContain(_ needle: Data) -> Bool {
        fileBytes().contains { $0.range(of: needle) != nil }
    }

    func resident(_ name: String = "Li Wei") throws -> String {
        try store.addResident(name: name, unit: "3-1501", validUntil: nil, operator: "test")
    }

    func notice() throws -> Notice { try NoticeLibrary.notice(version: "1", language: "zh") }
}

final class TestWallClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = WallTime(millisecondsSince1970: 1_790_000_000_000)
    var now: WallTime { lock.withLock { current } }
    func advance(days: Int) { lock.withLock { current = current.adding(days: days) } }
}
