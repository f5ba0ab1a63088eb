import Foundation
public import GateCore
public import GateStore
import PostgresNIO

// Consent and events through the management API (both backends), as the console uses them: one code path
// whether the console manages a single box or a hub.

/// One entry of a resident's consent ledger, as every backend lists it.
public struct DirectoryConsent: Sendable, Hashable {
    public var id: Int64
    public var action: String
    public var time: WallTime
    public var noticeVersion: String
    public var noticeSHA256: String
    public var language: String
    public var method: String
    public var `operator`: String
    public var scope: [String]
    public var device: String
}

/// What a withdrawal did: the ledger entry, and the templates deleted here (`nil` at a hub: each gate deletes
/// its own when the change arrives and writes a deletion receipt back).
public struct DirectoryWithdrawal: Sendable, Hashable {
    public var ledgerEntry: Int64
    public var time: WallTime
    public var `operator`: String
    public var method: String
    public var device: String
    public var templatesDeleted: Int?
}

/// An access decision or alarm: this box's own, or one a gate pushed to the hub (`gate` names it).
public struct DirectoryEvent: Sendable, Hashable {
    public var gate: String?
    public var seq: Int64
    public var time: WallTime
    public var door: String?
    public var method: String?
    public var result: String?
    public var reason: String?
    public var residentID: String?
    public var `operator`: String?
    public var action: String
    /// How many decisions the entry stands for (a collapsed run of denials counts several).
    public var count: Int
}

/// Consent and events: the second half of the management API (`ManagementDirectory`).
public protocol ConsentAndEventDirectory: Sendable {
    /// - Throws: when the resident does not exist.
    func consentLedger(residentID: String) async throws -> [DirectoryConsent]
    /// - Returns: the ledger entry's id.
    func recordConsentGrant(residentID: String, notice: Notice, method: ConsentMethod, operator: String) async throws -> Int64
    func recordConsentWithdrawal(residentID: String, method: ConsentMethod, operator: String) async throws -> DirectoryWithdrawal
    /// Access decisions and alarms since `since`, newest `limit`, oldest first.
    func directoryEvents(since: WallTime?, limit: Int?) async throws -> [DirectoryEvent]
    /// Granted and denied decisions per credential method since `since` (events without a method, such as
    /// alarms, are left out), counted where the events are rather than by listing them all.
    func decisionCounts(since: WallTime) async throws -> [DecisionCount]
    /// The display names of the residents with these ids; ids that name nobody are left out.
    func displayNames(of ids: Set<String>) async throws -> [String: String]
}

/// A day's decisions by one credential method: the dashboard's tally.
public struct DecisionCount: Sendable, Hashable {
    public var method: String
    public var granted: Int
    public var denied: Int

    public init(method: String, granted: Int, denied: Int) {
        (self.method, self.granted, self.denied) = (method, granted, denied)
    }

    /// Tallies `events` by method, sorted by method name.
    public static func tally(_ events: [DirectoryEvent]) -> [DecisionCount] {
        var counts: [String: DecisionCount] = [:]
        for event in events {
            guard let method = event.method else { continue }
            let granted = event.result == AccessResult.granted.rawValue
            counts[method, default: DecisionCount(method: method, granted: 0, denied: 0)]
                .add(granted: granted ? event.count : 0, denied: granted ? 0 : event.count)
        }
        return counts.values.sorted { $0.method < $1.method }
    }

    mutating func add(granted: Int, denied: Int) {
        self.granted += granted
        self.denied += denied
    }
}

extension LocalDirectory: ConsentAndEventDirectory {
    public func consentLedger(residentID: String) async throws -> [DirectoryConsent] {
        try database.consentHistory(residentID: residentID).map {
            DirectoryConsent(id: $0.id, action: $0.action.rawValue, time: $0.time, noticeVersion: $0.noticeVersion,
                             noticeSHA256: $0.noticeSHA256, language: $0.language, method: $0.method.rawValue, operator: $0.operator,
                             scope: $0.scope, device: $0.device)
        }
    }

    public func recordConsentGrant(residentID: String, notice: Notice, method: ConsentMethod, operator op: String) async throws -> Int64 {
        try database.grantConsent(residentID: residentID, notice: notice, method: method, operator: op).id
    }

    public func recordConsentWithdrawal(residentID: String, method: ConsentMethod, operator op: String) async throws -> DirectoryWithdrawal {
        let (record, deleted) = try database.withdrawConsent(residentID: residentID, method: method, operator: op)
        return DirectoryWithdrawal(ledgerEntry: record.id, time: record.time, operator: record.operator, method: record.method.rawValue,
                                   device: record.device, templatesDeleted: deleted)
    }

    public func directoryEvents(since: WallTime?, limit: Int?) async throws -> [DirectoryEvent] {
        try database.events(since: since, limit: limit).map {
            DirectoryEvent(gate: nil, seq: $0.seq, time: $0.time, door: $0.door, method: $0.method?.rawValue, result: $0.result?.rawValue,
                           reason: $0.reason?.rawValue, residentID: $0.residentID, operator: $0.operator, action: $0.action, count: $0.count)
        }
    }

    public func decisionCounts(since: WallTime) async throws -> [DecisionCount] {
        DecisionCount.tally(try await directoryEvents(since: since, limit: nil))
    }

    public func displayNames(of ids: Set<String>) async throws -> [String: String] {
        var names: [String: String] = [:]
        for id in ids { names[id] = try? database.resident(id).displayName }
        return names
    }
}

extension HubDirectory: ConsentAndEventDirectory {
    public func consentLedger(residentID: String) async throws -> [DirectoryConsent] {
        _ = try await siteKeys(of: residentID)
        return try await hub.execute("""
            SELECT id, action, time, notice_version, notice_sha256, language, method, operator, scope FROM consent
            WHERE resident_id = \(residentID) ORDER BY id
            """).map { row in
                let (id, action, time, version, sha, language, method, op, scope) =
                    try row.decode((Int64, String, Date, String, String, String, String, String, String).self)
                return DirectoryConsent(id: id, action: action, time: WallTime(time), noticeVersion: version, noticeSHA256: sha,
                                        language: language, method: method, operator: op,
                                        scope: scope.split(separator: ",").map(String.init), device: "hub")
            }
    }

    public func recordConsentGrant(residentID: String, notice: Notice, method: ConsentMethod, operator op: String) async throws -> Int64 {
        try await grantConsent(residentID: residentID, noticeVersion: notice.version, noticeSHA256: notice.sha256, language: notice.language,
                               method: method.rawValue, operator: op, scope: ["*"])
    }

    public func recordConsentWithdrawal(residentID: String, method: ConsentMethod, operator op: String) async throws -> DirectoryWithdrawal {
        let id = try await withdrawConsent(residentID: residentID, method: method.rawValue, operator: op)
        let time = try await hub.execute("SELECT time FROM consent WHERE id = \(id)")[0].decode(Date.self)
        return DirectoryWithdrawal(ledgerEntry: id, time: WallTime(time), operator: op, method: method.rawValue, device: "hub",
                                   templatesDeleted: nil)
    }

    public func directoryEvents(since: WallTime?, limit: Int?) async throws -> [DirectoryEvent] {
        try await hub.execute("""
            SELECT * FROM (
                SELECT g.name, e.local_seq, e.time, e.category, e.action, e.door, e.method, e.result, e.reason, e.resident_id
                FROM event e JOIN gate g ON g.id = e.gate_id
                WHERE \(since?.date)::timestamptz IS NULL OR e.time >= \(since?.date)
                ORDER BY e.time DESC, g.name, e.local_seq DESC LIMIT \(limit ?? Int(Int32.max))
            ) newest ORDER BY time, name, local_seq
            """).map { row in
                let (gate, seq, time, category, action, door, method, result, reason, resident) =
                    try row.decode((String, Int64, Date, String, String?, String?, String?, String?, String?, String?).self)
                return DirectoryEvent(gate: gate, seq: seq, time: WallTime(time), door: door, method: method, result: result, reason: reason,
                                      residentID: resident, operator: nil, action: action ?? category, count: 1)
            }
    }

    public func decisionCounts(since: WallTime) async throws -> [DecisionCount] {
        try await hub.execute("""
            SELECT method, count(*) FILTER (WHERE result = 'granted'), count(*) FILTER (WHERE result IS DISTINCT FROM 'granted')
            FROM event WHERE time >= \(since.date) AND method IS NOT NULL GROUP BY method ORDER BY method
            """).map { row in
                let (method, granted, denied) = try row.decode((String, Int64, Int64).self)
                return DecisionCount(method: method, granted: Int(granted), denied: Int(denied))
            }
    }

    public func displayNames(of ids: Set<String>) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await hub.execute("SELECT id, display_name FROM resident WHERE id = ANY(\(Array(ids)))")
        return try Dictionary(rows.map { try $0.decode((String, String).self) }, uniquingKeysWith: { first, _ in first })
    }

    /// Each gate of every site: where its replica stands against the hub's newest change, and when it last
    /// reported (the console's dashboard).
    public func gateSync() async throws -> (latest: Int64, gates: [GateSyncState]) {
        let latest = try await hub.latestChange()
        let gates = try await hub.execute("""
            SELECT g.name, s.name, y.applied_seq, y.time,
                   (SELECT max(e.received_at) FROM event e WHERE e.gate_id = g.id)
            FROM gate g JOIN site s ON s.id = g.site_id LEFT JOIN gate_sync y ON y.gate_id = g.id ORDER BY s.name, g.name
            """).map { row in
                let (gate, site, seq, time, pushed) = try row.decode((String, String, Int64?, Date?, Date?).self)
                return GateSyncState(gate: gate, site: site, appliedSeq: seq, reportedAt: time.map { WallTime($0) },
                                     lastEventAt: pushed.map { WallTime($0) })
            }
        return (latest, gates)
    }
}

/// One gate as the hub sees it: the change it has applied (nil: never synced) and when it last reported.
public struct GateSyncState: Sendable, Hashable {
    public var gate: String
    public var site: String
    public var appliedSeq: Int64?
    public var reportedAt: WallTime?
    public var lastEventAt: WallTime?
}
