public import Foundation
import GRDB
public import GateCore

/// The gate's store: one SQLite database (WAL) in the state directory and the device key beside it.
///
/// Both `optgated` and `optgate` open it; every write is one immediate transaction that also appends
/// the matching audit entry, so a change and its record commit together or not at all. Writes use
/// `synchronous = FULL` (a gate box loses power) and `secure_delete = ON` (deleted template bytes are
/// overwritten, not left in free pages).
public final class GateDatabase: Sendable {
    public let stateDirectory: String
    public var databasePath: String { "\(stateDirectory)/optgate.sqlite" }
    let writer: DatabasePool
    let keys: DeviceKeys
    let now: @Sendable () -> WallTime

    /// Opens (creating if needed) the store under `stateDirectory` and migrates it.
    /// - Parameter now: the wall clock; tests inject their own.
    public init(stateDirectory: String, now: @escaping @Sendable () -> WallTime = WallTime.current) throws {
        self.stateDirectory = stateDirectory
        self.now = now
        try makeDirectory(stateDirectory, mode: 0o750)
        keys = try DeviceKeys.loadOrCreate(at: "\(stateDirectory)/keys/master.key")
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON; PRAGMA synchronous = FULL")
        }
        do {
            writer = try DatabasePool(path: "\(stateDirectory)/optgate.sqlite", configuration: configuration)
            try Migrations.migrator.migrate(writer)
        } catch {
            throw GateStoreError.database("\(error)")
        }
    }

    /// Runs `body` in one write transaction, translating SQLite errors into sentences.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.write(body)
        } catch let error as GateStoreError {
            throw error
        } catch let error as DatabaseError {
            throw GateStoreError.database(error.message ?? "\(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch let error as DatabaseError {
            throw GateStoreError.database(error.message ?? "\(error)")
        }
    }

    /// Forces deleted bytes out of the write-ahead log: after this the `-wal` file is empty and the
    /// main file holds only the zeroed pages.
    func purgeWriteAheadLog() throws {
        do {
            try writer.writeWithoutTransaction { db in
                _ = try db.checkpoint(.truncate)
            }
        } catch let error as DatabaseError {
            throw GateStoreError.database(error.message ?? "\(error)")
        }
    }

    func audit(_ record: AuditRecord, in db: Database) throws {
        try AuditChain.append(record, in: db, key: keys.audit)
    }

    func requireResident(_ id: String, in db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM resident WHERE id = ?)", arguments: [id]) == true else {
            throw GateStoreError.residentNotFound(id)
        }
    }
}

extension WallTime {
    /// The system's wall clock.
    @Sendable public static func current() -> WallTime {
        WallTime(millisecondsSince1970: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    public init(_ date: Date) {
        self.init(millisecondsSince1970: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }
}
