import Crypto
import _CryptoExtras
import Foundation
import GRDB
public import GateCore

/// What a console user may do (docs/console.md#roles). Enforced by the console server on every route.
public enum ConsoleRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// Console users and settings.
    case administrator
    /// Residents, credentials, consent, visitors.
    case manager
    /// Door status, remote open with a reason, visitors, the day's events; no exports.
    case `guard`
    /// Audit verification, exports and receipts; no credential changes.
    case auditor
}

/// A console account as the console shows it (never its password hash).
public struct ConsoleUser: Sendable, Hashable {
    public var name: String
    public var role: ConsoleRole
    public var failedLogins: Int
    public var locked: Bool
}

/// A signed-in console session, found by the cookie's token (only its SHA-256 is stored).
public struct ConsoleSession: Sendable, Hashable {
    public var user: String
    public var role: ConsoleRole
    /// The token every state-changing request must carry (form field `csrf` or header `X-CSRF-Token`).
    public var csrf: String
    public var expiresAt: WallTime
    /// The operator recorded beside every change made in this session: `console:NAME`.
    public var `operator`: String { "console:\(user)" }
}

/// How a sign-in ended.
public enum ConsoleLogin: Sendable, Hashable {
    /// The new session and the cookie token (shown once, stored only as a hash).
    case signedIn(ConsoleSession, token: String)
    case wrongPassword
    /// The account is locked (after `ConsoleAccountPolicy.lockoutAfter` wrong passwords); an administrator unlocks it.
    case locked
}

/// Limits of console accounts and sessions.
public struct ConsoleAccountPolicy: Sendable, Hashable {
    /// Wrong passwords in a row that lock an account.
    public var lockoutAfter = 20
    /// A session ends this long after sign-in, whatever happens.
    public var sessionLifetime: Duration = .seconds(8 * 3600)
    /// …and this long after its last request.
    public var idleTimeout: Duration = .seconds(30 * 60)
    /// Shortest password accepted.
    public var minimumPasswordLength = 12

    public init() {}
}

/// Why a console account change was refused, as a sentence.
public enum ConsoleAccountError: Error, Sendable, Equatable, CustomStringConvertible {
    case setupDone
    case badSetupToken
    case weakPassword(minimum: Int)
    case badName
    case userExists(String)
    case userNotFound(String)

    public var description: String {
        switch self {
        case .setupDone: "The console is already set up; sign in instead."
        case .badSetupToken: "The setup token is wrong or was already used; restart optgate-console for a new one."
        case .weakPassword(let minimum): "A password needs at least \(minimum) characters."
        case .badName: "A user name is 1 to 64 letters, digits, dots, dashes or underscores."
        case .userExists(let name): "A console user named \(name) exists already."
        case .userNotFound(let name): "No console user is named \(name)."
        }
    }
}

extension GateDatabase {
    /// Whether any console user exists (else the console offers first-run setup).
    public func consoleIsSetUp() throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM consoleUser)") ?? false }
    }

    /// A new one-time setup token for the first administrator, replacing any earlier one; only its SHA-256
    /// is stored. - Returns: `nil` when the console is set up already.
    public func newConsoleSetupToken() throws -> String? {
        let token = ConsoleSecret.random(bytes: 16)
        return try write { db -> String? in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM consoleUser)") == false else { return nil }
            try db.execute(sql: "DELETE FROM consoleSetup")
            try db.execute(sql: "INSERT INTO consoleSetup (id, tokenHash, createdAt) VALUES (1, ?, ?)",
                           arguments: [ConsoleSecret.digest(token), now().millisecondsSince1970])
            return token
        }
    }

    /// Creates the first administrator with the setup token printed on the device; the token is spent.
    /// - Throws: `ConsoleAccountError`.
    public func completeConsoleSetup(token: String, name: String, password: String,
                                     policy: ConsoleAccountPolicy = ConsoleAccountPolicy()) throws {
        try ConsoleAccountRules.check(name: name, password: password, policy: policy)
        let hash = try ConsolePasswordHash.make(password)
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM consoleUser)") == false else {
                throw ConsoleAccountError.setupDone
            }
            guard let stored = try Data.fetchOne(db, sql: "SELECT tokenHash FROM consoleSetup WHERE id = 1"),
                  constantTimeEqual(Array(stored), Array(ConsoleSecret.digest(token)))
            else { throw ConsoleAccountError.badSetupToken }
            try db.execute(sql: "DELETE FROM consoleSetup")
            try insertConsoleUser(name: name, role: .administrator, hash: hash, in: db)
            try audit(AuditRecord(time: now(), category: .admin, action: .console(.setup), operator: "console:\(name)",
                                  detail: ["role": ConsoleRole.administrator.rawValue, "user": name]), in: db)
        }
    }

    /// Adds a console user (an administrator's action).
    public func addConsoleUser(name: String, role: ConsoleRole, password: String, operator op: String,
                               policy: ConsoleAccountPolicy = ConsoleAccountPolicy()) throws {
        try ConsoleAccountRules.check(name: name, password: password, policy: policy)
        let hash = try ConsolePasswordHash.make(password)
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM consoleUser WHERE name = ?)", arguments: [name]) == true {
                throw ConsoleAccountError.userExists(name)
            }
            try insertConsoleUser(name: name, role: role, hash: hash, in: db)
            try audit(AuditRecord(time: now(), category: .admin, action: .console(.userAdd), operator: op,
                                  detail: ["role": role.rawValue, "user": name]), in: db)
        }
    }

    /// Clears an account's wrong-password count and lock.
    public func unlockConsoleUser(name: String, operator op: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE consoleUser SET failedLogins = 0, lockedAt = NULL WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw ConsoleAccountError.userNotFound(name) }
            try audit(AuditRecord(time: now(), category: .admin, action: .console(.unlock), operator: op, detail: ["user": name]), in: db)
        }
    }

    public func consoleUsers() throws -> [ConsoleUser] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT name, role, failedLogins, lockedAt FROM consoleUser ORDER BY name").map { row in
                let locked: Int64? = row["lockedAt"]
                return ConsoleUser(name: row["name"], role: ConsoleRole(rawValue: row["role"]) ?? .guard,
                                   failedLogins: row["failedLogins"], locked: locked != nil)
            }
        }
    }

    /// Checks a password and opens a session. Every wrong password counts against the account; the
    /// `policy.lockoutAfter`-th locks it (audited as `console.lockout`). An unknown name costs the same
    /// slow hash, so the time taken does not say which names exist.
    public func consoleLogin(name: String, password: String, policy: ConsoleAccountPolicy = ConsoleAccountPolicy()) throws -> ConsoleLogin {
        let row = try read { db in
            try Row.fetchOne(db, sql: "SELECT role, passwordHash, lockedAt FROM consoleUser WHERE name = ?", arguments: [name])
        }
        guard let row else {
            _ = ConsolePasswordHash.verify(password, against: ConsolePasswordHash.placeholder)
            return .wrongPassword
        }
        let lockedAt: Int64? = row["lockedAt"]
        if lockedAt != nil { return .locked }
        let role = ConsoleRole(rawValue: row["role"]) ?? .guard
        guard ConsolePasswordHash.verify(password, against: row["passwordHash"]) else {
            return try write { db -> ConsoleLogin in
                try db.execute(sql: "UPDATE consoleUser SET failedLogins = failedLogins + 1 WHERE name = ?", arguments: [name])
                let failures = try Int.fetchOne(db, sql: "SELECT failedLogins FROM consoleUser WHERE name = ?", arguments: [name]) ?? 0
                guard failures >= policy.lockoutAfter else { return .wrongPassword }
                try db.execute(sql: "UPDATE consoleUser SET lockedAt = ? WHERE name = ?", arguments: [now().millisecondsSince1970, name])
                try db.execute(sql: "DELETE FROM consoleSession WHERE userName = ?", arguments: [name])
                try audit(AuditRecord(time: now(), category: .admin, action: .console(.lockout), operator: "console:\(name)",
                                      detail: ["failures": String(failures)]), in: db)
                return .locked
            }
        }
        let token = ConsoleSecret.random(bytes: 32)
        let csrf = ConsoleSecret.random(bytes: 32)
        let time = now()
        let expires = WallTime(millisecondsSince1970: time.millisecondsSince1970 + policy.sessionLifetime.wholeMilliseconds)
        try write { db in
            try db.execute(sql: "UPDATE consoleUser SET failedLogins = 0 WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM consoleSession WHERE expiresAt < ?", arguments: [time.millisecondsSince1970])
            try db.execute(
                sql: "INSERT INTO consoleSession (tokenHash, userName, csrf, createdAt, lastSeen, expiresAt) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [ConsoleSecret.digest(token), name, csrf, time.millisecondsSince1970, time.millisecondsSince1970,
                            expires.millisecondsSince1970])
            try audit(AuditRecord(time: time, category: .admin, action: .console(.login), operator: "console:\(name)"), in: db)
        }
        return .signedIn(ConsoleSession(user: name, role: role, csrf: csrf, expiresAt: expires), token: token)
    }

    /// The live session of a cookie token, its idle time renewed. - Returns: `nil` for an unknown, expired
    /// or idle session, or one whose account was locked since.
    public func consoleSession(token: String, policy: ConsoleAccountPolicy = ConsoleAccountPolicy()) throws -> ConsoleSession? {
        let time = now().millisecondsSince1970
        let digest = ConsoleSecret.digest(token)
        let row = try read { db in
            try Row.fetchOne(db, sql: """
                SELECT s.userName, s.csrf, s.lastSeen, s.expiresAt, u.role FROM consoleSession s
                JOIN consoleUser u ON u.name = s.userName WHERE s.tokenHash = ? AND u.lockedAt IS NULL
                """, arguments: [digest])
        }
        guard let row else { return nil }
        let lastSeen: Int64 = row["lastSeen"]
        let expiresAt: Int64 = row["expiresAt"]
        guard time < expiresAt, time - lastSeen < policy.idleTimeout.wholeMilliseconds else {
            try write { db in try db.execute(sql: "DELETE FROM consoleSession WHERE tokenHash = ?", arguments: [digest]) }
            return nil
        }
        // Renewed at most every few seconds: a dashboard's requests are not each a write.
        if time - lastSeen > 5_000 {
            try write { db in
                try db.execute(sql: "UPDATE consoleSession SET lastSeen = ? WHERE tokenHash = ?", arguments: [time, digest])
            }
        }
        return ConsoleSession(user: row["userName"], role: ConsoleRole(rawValue: row["role"]) ?? .guard, csrf: row["csrf"],
                              expiresAt: WallTime(millisecondsSince1970: expiresAt))
    }

    /// Ends a session (sign-out).
    public func consoleLogout(token: String) throws {
        let digest = ConsoleSecret.digest(token)
        try write { db in
            guard let user = try String.fetchOne(db, sql: "SELECT userName FROM consoleSession WHERE tokenHash = ?", arguments: [digest])
            else { return }
            try db.execute(sql: "DELETE FROM consoleSession WHERE tokenHash = ?", arguments: [digest])
            try audit(AuditRecord(time: now(), category: .admin, action: .console(.logout), operator: "console:\(user)"), in: db)
        }
    }

    /// Records that a console user exported `what` (`residents`…).
    public func recordConsoleExport(_ what: String, operator op: String) throws {
        try write { db in
            _ = try audit(AuditRecord(time: now(), category: .admin, action: .console(.export), operator: op, detail: ["what": what]), in: db)
        }
    }

    private func insertConsoleUser(name: String, role: ConsoleRole, hash: String, in db: Database) throws {
        try db.execute(sql: "INSERT INTO consoleUser (name, role, passwordHash, failedLogins, createdAt) VALUES (?, ?, ?, 0, ?)",
                       arguments: [name, role.rawValue, hash, now().millisecondsSince1970])
    }
}

/// The console's tables (migration `console-v1`): accounts with a slow password hash, sessions by the
/// SHA-256 of their cookie token, and the one-time setup token's hash.
enum ConsoleSchema {
    static func create(in db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE consoleUser (
                name TEXT PRIMARY KEY NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('administrator', 'manager', 'guard', 'auditor')),
                passwordHash TEXT NOT NULL,
                failedLogins INTEGER NOT NULL DEFAULT 0,
                lockedAt INTEGER,
                createdAt INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE consoleSession (
                tokenHash BLOB PRIMARY KEY NOT NULL,
                userName TEXT NOT NULL REFERENCES consoleUser(name) ON DELETE CASCADE,
                csrf TEXT NOT NULL,
                createdAt INTEGER NOT NULL,
                lastSeen INTEGER NOT NULL,
                expiresAt INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX consoleSession_user ON consoleSession(userName);
            CREATE TABLE consoleSetup (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                tokenHash BLOB NOT NULL,
                createdAt INTEGER NOT NULL
            ) STRICT;
            """)
    }
}

enum ConsoleAccountRules {
    static func check(name: String, password: String, policy: ConsoleAccountPolicy) throws {
        guard (1...64).contains(name.count),
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
        else { throw ConsoleAccountError.badName }
        guard password.count >= policy.minimumPasswordLength, password.utf8.count <= 1024 else {
            throw ConsoleAccountError.weakPassword(minimum: policy.minimumPasswordLength)
        }
    }
}

/// Random tokens and their stored digests.
enum ConsoleSecret {
    /// `bytes` random bytes as lowercase hex.
    static func random(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }.hex
    }

    static func digest(_ token: String) -> Data { Data(SHA256.hash(data: Array(token.utf8))) }
}

/// Console passwords: scrypt like PINs (N = 2^15, r = 8, p = 1), `scrypt$N$r$p$salt-hex$hash-hex`.
enum ConsolePasswordHash {
    static let placeholder: String = (try? make("no one's password, for timing")) ?? ""

    static func make(_ password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hash = try derive(password, salt: salt, rounds: PinHash.rounds, blockSize: PinHash.blockSize, parallelism: PinHash.parallelism)
        return "scrypt$\(PinHash.rounds)$\(PinHash.blockSize)$\(PinHash.parallelism)$\(salt.hex)$\(hash.hex)"
    }

    static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = [UInt8](hex: parts[4]), let expected = [UInt8](hex: parts[5]),
              let actual = try? derive(password, salt: salt, rounds: n, blockSize: r, parallelism: p)
        else { return false }
        return constantTimeEqual(actual, expected)
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32,
                                           rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}

extension Duration {
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
