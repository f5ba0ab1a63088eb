public import Logging
import PostgresNIO
import Foundation

/// One connection to the hub, for one command (the CLI) or one sync session (a gate).
public struct Hub: Sendable {
    public let endpoint: HubEndpoint
    let connection: PostgresConnection
    let logger: Logger

    /// Connects (over TLS with verification unless the hub is local, `HubEndpoint`).
    public static func connect(_ endpoint: HubEndpoint, database: String? = nil, logger: Logger) async throws(HubError) -> Hub {
        do {
            let configuration = try endpoint.configuration(database: database)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return Hub(endpoint: endpoint, connection: connection, logger: logger)
        } catch {
            let psql = error as? PSQLError
            let reason = psql?.serverInfo?[.message] ?? psql?.underlying.map { "\($0)" } ?? psql.map { "\($0.code)" } ?? "\(error)"
            throw .unreachable(endpoint.description, reason: reason)
        }
    }

    /// Runs `body` on a fresh connection and closes it afterwards, whatever happens.
    public static func with<T: Sendable>(
        _ endpoint: HubEndpoint, logger: Logger, _ body: (Hub) async throws -> T
    ) async throws(HubError) -> T {
        let hub = try await connect(endpoint, logger: logger)
        do {
            let value = try await body(hub)
            try? await hub.connection.close()
            return value
        } catch {
            try? await hub.connection.close()
            throw HubError.from(error)
        }
    }

    public func close() async { try? await connection.close() }

    @discardableResult
    func execute(_ query: PostgresQuery) async throws -> [PostgresRow] {
        do {
            return try await connection.query(query, logger: logger).collect()
        } catch {
            throw HubError.from(error)
        }
    }

    /// One transaction: committed when `body` returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: (Hub) async throws -> T) async throws -> T {
        try await execute("BEGIN")
        do {
            let value = try await body(self)
            try await execute("COMMIT")
            return value
        } catch {
            _ = try? await execute("ROLLBACK")
            throw HubError.from(error)
        }
    }
}

// MARK: - Schema and administration

extension Hub {
    /// Creates the hub's database if it does not exist yet (through the `postgres` maintenance database), then
    /// applies every migration not yet recorded. - Returns: the names of the migrations applied now.
    public static func initialize(_ endpoint: HubEndpoint, logger: Logger) async throws(HubError) -> [String] {
        let maintenance = try await connect(endpoint, database: "postgres", logger: logger)
        do {
            let exists = try await maintenance.execute("SELECT 1 FROM pg_database WHERE datname = \(endpoint.database)")
            if exists.isEmpty {
                try await maintenance.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(endpoint.database))"))
            }
            await maintenance.close()
        } catch {
            await maintenance.close()
            throw HubError.from(error)
        }
        return try await with(endpoint, logger: logger) { hub in try await hub.migrate() }
    }

    /// Applies the migrations not yet recorded, each in its own transaction, serialised by an advisory lock.
    func migrate() async throws -> [String] {
        try await execute("CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        var applied: [String] = []
        for migration in HubSchema.migrations {
            let done = try await transaction { hub in
                try await hub.execute("SELECT pg_advisory_xact_lock(7353000)")
                if try await !hub.execute("SELECT 1 FROM schema_migration WHERE name = \(migration.name)").isEmpty { return false }
                for statement in migration.statements { try await hub.execute(PostgresQuery(unsafeSQL: statement)) }
                try await hub.execute("INSERT INTO schema_migration (name) VALUES (\(migration.name))")
                return true
            }
            if done { applied.append(migration.name) }
        }
        return applied
    }

    /// Adds a site with a fresh site secret (`SiteKeys`).
    public func addSite(name: String) async throws(HubError) {
        try Self.checkName(name, what: "site")
        do {
            try await transaction { hub in
                let rows = try await hub.execute("INSERT INTO site (name) VALUES (\(name)) RETURNING id")
                let id = try rows[0].decode(Int64.self)
                let secret = SiteSecret.generate()
                try await hub.execute("INSERT INTO site_secret (site_id, secret) VALUES (\(id), \(secret))")
            }
        } catch HubError.conflict {
            throw .conflict("A site named \(name) already exists")
        } catch {
            throw HubError.from(error)
        }
    }

    public func sites() async throws(HubError) -> [String] {
        do {
            return try await execute("SELECT name FROM site ORDER BY name").map { try $0.decode(String.self) }
        } catch { throw HubError.from(error) }
    }

    /// Adds a gate to a site: its own login role (member of `optgate_gate`, so row-level security applies)
    /// with a random password. - Returns: the credentials, shown once and stored nowhere else in clear.
    public func addGate(name: String, site: String) async throws(HubError) -> GateCredentials {
        try Self.checkName(name, what: "gate")
        do {
            return try await transaction { hub in
                let siteRows = try await hub.execute("""
                    SELECT s.id, k.secret FROM site s JOIN site_secret k ON k.site_id = s.id WHERE s.name = \(site)
                    """)
                guard let siteRow = siteRows.first else { throw HubError.notFound("The site \(site)") }
                let (siteID, secret) = try siteRow.decode((Int64, String).self)
                if try await !hub.execute("SELECT 1 FROM gate WHERE name = \(name)").isEmpty {
                    throw HubError.conflict("A gate named \(name) already exists")
                }
                let idRows = try await hub.execute("SELECT nextval('gate_id_seq')")
                let gateID = try idRows[0].decode(Int64.self)
                let role = "optgate_gate_\(gateID)"
                let password = SiteSecret.generate()
                // Identifiers and the password are generated here (digits, hex), never input: safe to inline.
                try await hub.execute(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN PASSWORD '\(password)' IN ROLE optgate_gate"))
                try await hub.execute("INSERT INTO gate (id, site_id, name, role) VALUES (\(gateID), \(siteID), \(name), \(role))")
                return GateCredentials(gate: name, site: site, hub: hub.endpoint.address, user: role, password: password,
                                       siteKey: secret)
            }
        } catch {
            throw HubError.from(error)
        }
    }

    public func gates() async throws(HubError) -> [(gate: String, site: String, appliedSeq: Int64?)] {
        do {
            return try await execute("""
                SELECT g.name, s.name, y.applied_seq FROM gate g JOIN site s ON s.id = g.site_id
                LEFT JOIN gate_sync y ON y.gate_id = g.id ORDER BY s.name, g.name
                """).map { row in
                    let (gate, site, seq) = try row.decode((String, String, Int64?).self)
                    return (gate, site, seq)
                }
        } catch { throw HubError.from(error) }
    }

    static func checkName(_ name: String, what: String) throws(HubError) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed != name || name.count > 100 || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .refused("a \(what) name must be 1 to 100 characters without control characters or outer spaces")
        }
    }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// 32 random bytes as hex: site secrets and gate passwords.
enum SiteSecret {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// What `optgate gate add` prints once, and what the gate keeps as its `credentialsFile` (root-only, mode 0600):
/// `{"gate","site","hub","user","password","siteKey"}`. `siteKey` is the site secret the card and PIN-lookup
/// tags are keyed with (`SiteKeys`): it reaches a gate only this way, never through the config or a log.
public struct GateCredentials: Codable, Sendable, Hashable {
    public var gate: String
    public var site: String
    public var hub: String
    public var user: String
    public var password: String
    public var siteKey: String

    public init(gate: String, site: String, hub: String, user: String, password: String, siteKey: String) {
        self.gate = gate
        self.site = site
        self.hub = hub
        self.user = user
        self.password = password
        self.siteKey = siteKey
    }

    /// Reads a credentials file; refuses one that others than its owner can read.
    public static func load(path: String) throws(HubError) -> GateCredentials {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .credentials(path: path, reason: String(cString: strerror(errno))) }
        if info.st_mode & 0o077 != 0 {
            throw .credentials(path: path, reason: "its mode lets others read it; chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path),
              let credentials = try? JSONDecoder().decode(GateCredentials.self, from: data)
        else { throw .credentials(path: path, reason: "it is not the JSON `optgate gate add --json` printed") }
        return credentials
    }

    /// The endpoint to log in as this gate.
    public func endpoint() throws(HubError) -> HubEndpoint {
        try HubEndpoint(url: hub).authenticating(as: user, password: password)
    }
}

// MARK: - Watching the fleet (tests, benchmarks, `gate list`)

extension Hub {
    /// The newest change sequence of the hub (0 before any).
    public func latestChange() async throws(HubError) -> Int64 {
        do {
            return try await execute("SELECT coalesce(max(seq), 0) FROM change")[0].decode(Int64.self)
        } catch { throw HubError.from(error) }
    }

    /// Each gate's applied sequence, by gate name (gates that never synced are missing).
    public func appliedSequences() async throws(HubError) -> [String: Int64] {
        do {
            var applied: [String: Int64] = [:]
            for row in try await execute("SELECT g.name, y.applied_seq FROM gate_sync y JOIN gate g ON g.id = y.gate_id") {
                let (name, seq) = try row.decode((String, Int64).self)
                applied[name] = seq
            }
            return applied
        } catch { throw HubError.from(error) }
    }

    /// Events held per gate, by gate name.
    public func eventCounts() async throws(HubError) -> [String: Int] {
        do {
            var counts: [String: Int] = [:]
            for row in try await execute("SELECT g.name, count(*)::bigint FROM event e JOIN gate g ON g.id = e.gate_id GROUP BY g.name") {
                let (name, count) = try row.decode((String, Int64).self)
                counts[name] = Int(count)
            }
            return counts
        } catch { throw HubError.from(error) }
    }
}
