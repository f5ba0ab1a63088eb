public import GateHub
import GateStore
import GateCore
import Logging

/// What the console manages: this box's own store, or a fleet hub (`optgate-console --hub URL`).
public enum ConsoleBackend: Sendable {
    case local
    case hub(HubEndpoint)
}

/// The management API the console's resident, card, consent, visitor and event routes go through — the same
/// `ManagementDirectory` as the CLI, with the console user as operator — whichever the backend: one code path.
/// The console's own users, sessions and lockouts always stay in the local state directory (console-v1).
struct ConsoleDirectory: Sendable {
    typealias Directory = ManagementDirectory & ConsentAndEventDirectory

    let database: GateDatabase
    let backend: ConsoleBackend
    let logger: Logger

    var isHub: Bool {
        if case .hub = backend { return true }
        return false
    }

    /// Runs `body` against the backend: the local store, or the hub on a connection of its own for this request.
    func run<T: Sendable>(_ body: @Sendable (any Directory) async throws -> T) async throws -> T {
        switch backend {
        case .local:
            return try await body(LocalDirectory(database: database))
        case .hub(let endpoint):
            return try await Hub.with(endpoint, logger: logger) { hub in try await body(HubDirectory(hub: hub)) }
        }
    }

    /// A resident with the face templates this box holds (`nil` on a hub: templates stay on the gate that
    /// enrolled them). - Throws: `ConsoleRefusal.notFound` when there is none with this id.
    func resident(_ id: String) async throws -> ConsoleResident {
        if case .local = backend {
            do {
                return ConsoleResident(try database.resident(id))
            } catch GateStoreError.residentNotFound { throw ConsoleRefusal.notFound }
        }
        guard let found = try await run({ try await $0.resident(id) }) else { throw ConsoleRefusal.notFound }
        return ConsoleResident(found)
    }

    /// Every resident, with the templates this box holds of each (none counted on a hub).
    func residents() async throws -> [ConsoleResident] {
        try await residents(matching: "", limit: nil)
    }

    /// The residents whose name or unit contains `text` (all when empty), at most `limit`, with the templates this
    /// box holds of each; on a hub the hub searches (`ManagementDirectory.residents(matching:limit:)`).
    func residents(matching text: String, limit: Int?) async throws -> [ConsoleResident] {
        if case .local = backend {
            let found = try database.residents().filter { DirectoryResident.matches(name: $0.displayName, unit: $0.unit, text: text) }
            return found.prefix(limit ?? found.count).map(ConsoleResident.init)
        }
        return try await run { try await $0.residents(matching: text, limit: limit) }.map(ConsoleResident.init)
    }

    /// Display names of the residents `events` name (a query for just those ids on a hub, not the whole directory).
    func residentNames(_ events: [DirectoryEvent]) async -> [String: String] {
        let ids = Set(events.compactMap(\.residentID))
        guard !ids.isEmpty else { return [:] }
        return (try? await run { try await $0.displayNames(of: ids) }) ?? [:]
    }

    /// The dashboard's fleet block: each gate's applied change against the hub's newest (hub only).
    func gateSync() async throws -> [[String: Any]] {
        guard case .hub(let endpoint) = backend else { return [] }
        let (latest, gates) = try await Hub.with(endpoint, logger: logger) { hub in try await HubDirectory(hub: hub).gateSync() }
        return gates.map { gate in
            let behind = gate.appliedSeq.map { latest - $0 }
            return ["gate": gate.gate, "site": gate.site, "applied": gate.appliedSeq.map { String($0) } ?? "–", "latest": latest,
                    "behind": behind.map { String($0) } ?? "–", "inSync": behind == 0,
                    "reported": gate.reportedAt.map(ConsoleRoutes.time) ?? "–", "lastEvent": gate.lastEventAt.map(ConsoleRoutes.time) ?? "–"]
        }
    }
}

/// The live feed's reads. On a hub, one connection is kept across the feed's polls (and opened again after a
/// failure) rather than a new connection, with its authentication, twice a second for every open dashboard.
struct ConsoleLiveReader {
    let directory: ConsoleDirectory
    private var hub: Hub?

    init(directory: ConsoleDirectory) {
        self.directory = directory
    }

    mutating func read<T: Sendable>(_ body: (any ConsoleDirectory.Directory) async throws -> T) async throws -> T {
        guard case .hub(let endpoint) = directory.backend else { return try await body(LocalDirectory(database: directory.database)) }
        do {
            let hub: Hub
            if let open = self.hub {
                hub = open
            } else {
                hub = try await Hub.connect(endpoint, logger: directory.logger)
                self.hub = hub
            }
            return try await body(HubDirectory(hub: hub))
        } catch {
            await close()
            throw error
        }
    }

    mutating func close() async {
        await hub?.close()
        hub = nil
    }
}

/// A resident as the console shows them, from either backend.
struct ConsoleResident: Sendable {
    var id: String
    var displayName: String
    var unit: String
    var validUntil: WallTime?
    var cards: [String]
    var hasPIN: Bool
    var faceConsent: Bool
    /// Face templates held here; `nil` on a hub (each gate holds its own).
    var templates: Int?

    init(_ resident: Resident) {
        (id, displayName, unit, validUntil, cards, hasPIN, faceConsent, templates) =
            (resident.id, resident.displayName, resident.unit, resident.validUntil, resident.cards.sorted(), resident.hasPIN,
             resident.faceConsent, resident.faceTemplates)
    }

    init(_ resident: DirectoryResident) {
        (id, displayName, unit, validUntil, cards, hasPIN, faceConsent, templates) =
            (resident.id, resident.displayName, resident.unit, resident.validUntil, resident.cards, resident.hasPIN, resident.faceConsent, nil)
    }
}
