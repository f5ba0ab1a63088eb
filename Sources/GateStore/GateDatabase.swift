public import Foundation
import GRDB
public import GateCore
import Synchronization

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
    let anchorWriter: AuditAnchorWriter
    var anchorFile: AuditAnchorFile { anchorWriter.file }
    /// The head signed by the transaction in progress; anchored once it has committed.
    private let pendingHead = Mutex<SignedAuditHead?>(nil)
    /// A fleet gate's site keys (docs/fleet.md), for cards enrolled at the hub; `nil` on a single box.
    let siteKeys = Mutex<SiteKeys?>(nil)

    /// Opens (creating if needed) the store under `stateDirectory` and migrates it.
    /// - Parameters:
    ///   - now: the wall clock; tests inject their own.
    ///   - anchorRefused: called (on the anchoring thread) when the audit anchor could not be moved to a
    ///     new head, once per distinct reason; the change itself was committed.
    public init(stateDirectory: String, now: @escaping @Sendable () -> WallTime = WallTime.current,
                anchorRefused: @escaping @Sendable (AuditAnchorRefusal) -> Void = { _ in }) throws {
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
            anchorWriter = AuditAnchorWriter(file: AuditAnchorFile(stateDirectory: stateDirectory), keys: keys, database: writer,
                                             refused: anchorRefused)
            let anchored = try writer.read { try Migrations.migrator.appliedIdentifiers($0) }.contains(Migrations.auditAnchor)
            try Migrations.migrator.migrate(writer)
            if !anchored { try signHeadAndAnchor() }
        } catch let error as GateStoreError {
            throw error
        } catch {
            throw GateStoreError.database("\(error)")
        }
    }

    /// How a write moves the anchor file after its audit entries committed (`AuditAnchorFile`).
    enum Anchoring {
        /// Only to a head that extends the anchored one; a missing anchor stays missing.
        case advance
        /// As `advance`, and create the anchor if there is none: the first anchoring of a log.
        case create
        /// Whatever is there (`audit reanchor`).
        case force
    }

    deinit { anchorWriter.flush() }

    /// Runs `body` in one write transaction, translating SQLite errors into sentences; after the commit,
    /// anchors the new audit head outside the database (`AuditAnchorWriter`).
    func write<T>(anchoring: Anchoring = .advance, _ body: (Database) throws -> T) throws -> T {
        do {
            let (result, head) = try writer.writeWithoutTransaction { db -> (T, SignedAuditHead?) in
                pendingHead.withLock { $0 = nil }
                var result: T?
                do {
                    try db.inTransaction {
                        result = try body(db)
                        return .commit
                    }
                } catch {
                    pendingHead.withLock { $0 = nil }
                    throw error
                }
                return (result!, pendingHead.withLock { pending in defer { pending = nil }; return pending })
            }
            if let head {
                switch anchoring {
                case .advance: anchorWriter.submit(head)
                case .create: anchorWriter.anchorNow(head, create: true, force: false)
                case .force: anchorWriter.anchorNow(head, create: true, force: true)
                }
            }
            return result
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

    /// Appends `record` to the audit chain inside the caller's transaction. - Returns: the new head.
    @discardableResult
    func audit(_ record: AuditRecord, in db: Database) throws -> SignedAuditHead {
        let head = try AuditChain.append(record, in: db, key: keys.audit, headKey: keys.auditHead, time: now())
        pendingHead.withLock { $0 = head }
        return head
    }

    /// Runs once, when the migration that brought anchoring is applied: signs the head of the log as it is
    /// (empty for a new store) and writes the first anchor.
    private func signHeadAndAnchor() throws {
        try write(anchoring: .create) { db in
            let last = try AuditChain.previous(in: db, headKey: keys.auditHead)
            let time = try Int64.fetchOne(db, sql: "SELECT time FROM auditEntry WHERE seq = ?", arguments: [last.seq])
            let head = SignedAuditHead(seq: last.seq, hash: last.hash, time: time.map(WallTime.init(millisecondsSince1970:)) ?? now(),
                                       key: keys.auditHead)
            try AuditChain.store(head, in: db)
            pendingHead.withLock { $0 = head }
        }
    }

    func requireResident(_ id: String, in db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM resident WHERE id = ?)", arguments: [id]) == true else {
            throw GateStoreError.residentNotFound(id)
        }
    }
}

extension WallTime {
    /// The system's wall clock (moved by `simulate(startingAt:)` in a `--simulate` daemon).
    @Sendable public static func current() -> WallTime {
        WallTime(millisecondsSince1970: Int64((Date().timeIntervalSince1970 * 1000).rounded()) + simulatedOffset.load(ordering: .relaxed))
    }

    private static let simulatedOffset = Atomic<Int64>(0)

    /// `optgated --simulate` only (`OPTGATE_SIMULATED_NOW`): the wall clock of this process starts at
    /// `start` and runs on from there, so schedules and holidays can be shown on any day.
    public static func simulate(startingAt start: WallTime) {
        simulatedOffset.store(0, ordering: .relaxed)
        simulatedOffset.store(start.millisecondsSince1970 - current().millisecondsSince1970, ordering: .relaxed)
    }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    public init(_ date: Date) {
        self.init(millisecondsSince1970: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }
}
