import ArgumentParser
import Dispatch
import Foundation
import GateHub
import GateStore
import Logging

// The fleet hub (docs/fleet.md): `hub init`, `site add|list`, `gate add|list`, and the hub backend of the
// directory commands when `--hub URL` or $OPTGATE_HUB is given.

extension GlobalOptions {
    /// The hub's endpoint. - Throws: when no hub is given or its URL is not valid.
    func hubEndpoint() throws -> HubEndpoint {
        guard let hubURL else { throw CLIError("Please give --hub postgresql://HOST:PORT/DATABASE (or set OPTGATE_HUB).") }
        do { return try HubEndpoint(url: hubURL) } catch { throw CLIError("\(error)") }
    }

    /// Runs `body` against the hub on one connection, waiting for it (the CLI's commands are synchronous).
    func withHub<T: Sendable>(_ body: @escaping @Sendable (Hub) async throws -> T) throws -> T {
        let endpoint = try hubEndpoint()
        return try waitFor {
            do {
                return try await Hub.with(endpoint, logger: hubLogger, body)
            } catch {
                throw CLIError("\(error)")
            }
        }
    }

    /// `withHub` for the management API (`ManagementDirectory`).
    func withHubDirectory<T: Sendable>(_ body: @escaping @Sendable (HubDirectory) async throws -> T) throws -> T {
        try withHub { hub in try await body(HubDirectory(hub: hub)) }
    }
}

/// The hub client logs nothing on the CLI: errors come back as sentences.
let hubLogger = Logger(label: "optgate.hub", factory: { _ in SwiftLogNoOpLogHandler() })

/// Blocks the calling (synchronous) command until `body` finishes.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Hands a result from the task to the waiting thread (written before the semaphore is signalled).
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

struct HubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub", abstract: "Create and migrate a fleet hub (PostgreSQL).", subcommands: [Init.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the hub's database if needed and apply its schema migrations (safe to repeat).")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let endpoint = try global.hubEndpoint()
            let applied = try waitFor {
                do { return try await Hub.initialize(endpoint, logger: hubLogger) } catch { throw CLIError("\(error)") }
            }
            print(applied.isEmpty ? "hub \(endpoint) is up to date" : "hub \(endpoint) migrated: \(applied.joined(separator: ", "))")
        }
    }
}

struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "Add and list the hub's sites (compounds).", subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a site, with its own card and PIN key.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site name.") var name: String

        func run() throws {
            try global.withHub { hub in try await hub.addSite(name: name) }
            print(Output.safe("site \(name) added"))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the sites.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            for site in try global.withHub({ hub in try await hub.sites() }) { print(Output.safe(site)) }
        }
    }
}

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate", abstract: "Add and list the gates joined to the hub.", subcommands: [Add.self, List.self, Resync.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a gate to a site: creates its database role and prints its credentials once.",
            discussion: """
                Save the JSON as-is on the gate box as the credentialsFile of its "fleet" config section, owned by \
                root, mode 0600. It holds the gate's password and the site's card key; it is printed only now.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Gate name, unique in the hub.") var name: String
        @Option(help: "The site the gate belongs to.") var site: String
        @Flag(help: "Print only the credentials JSON.") var json = false

        func run() throws {
            let credentials = try global.withHub { hub in try await hub.addGate(name: name, site: site) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let text = String(decoding: try encoder.encode(credentials), as: UTF8.self)
            if json { return print(text) }
            print(Output.safe("gate \(name) added to site \(site) as role \(credentials.user)"))
            print("credentials (shown once; save as the gate's credentialsFile, root-only, mode 0600):")
            print(text)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the gates and the change each has applied.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let (gates, held) = try global.withHub { hub in
                (try await hub.gates().map { GateRow(gate: $0.gate, site: $0.site, appliedSeq: $0.appliedSeq) }, try await hub.heldGates())
            }
            for gate in gates {
                // A gate that found the hub behind it holds until `gate resync` (docs/fleet.md, "Backup and restore").
                let state = held[gate.gate].map { alarm in
                    "  HELD: hub rolled back to \(alarm.hubSeq.map(String.init) ?? "?") after the gate applied \(alarm.gateSeq.map(String.init) ?? "?")"
                        + "; after re-doing the newer changes: gate resync \(gate.gate)"
                } ?? ""
                print(Output.safe("\(gate.site)  \(gate.gate)  applied \(gate.appliedSeq.map(String.init) ?? "nothing yet")\(state)"))
            }
        }
    }

    /// `optgate --hub URL gate resync GATE`: the manager's acknowledgement after a gate raised `hubRolledBack`.
    struct Resync: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Have a gate replace its replica with a full snapshot of the hub (after fleet.hubRolledBack).",
            discussion: """
                A gate that finds the hub behind what it applied (the hub restored from an older backup) raises \
                hubRolledBack and holds: it keeps deciding from its replica, revocations it applied included, and \
                pulls nothing. Re-do at the hub the changes made after the backup (revocations and erasures first), then run \
                this: at its next sync the gate replaces its replica with the hub's state in one transaction and \
                pulls from there. Residents the hub no longer has are erased at the gate.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The gate to re-sync.") var gate: String

        func run() throws {
            try global.withHub { hub in try await hub.requestResync(gate: gate) }
            print(Output.safe("gate \(gate): re-sync from zero requested; the gate replaces its replica at its next sync"))
        }
    }

    struct GateRow: Sendable {
        var gate: String
        var site: String
        var appliedSeq: Int64?
    }
}

/// An event as `optgate --hub URL events --json` prints it: the gate's fields plus which gate.
struct HubEventJSON: Encodable {
    var gate: String
    var seq: Int64
    var time: String
    var category: String
    var door: String?
    var method: String?
    var result: String?
    var reason: String?
    var resident: String?

    init(_ hubEvent: HubEvent) {
        let event = hubEvent.event
        gate = hubEvent.gate
        seq = event.seq
        time = Output.time(event.time)
        category = event.category
        door = event.door
        method = event.method
        result = event.result
        reason = event.reason
        resident = event.residentID
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(gate, forKey: .gate)
        try container.encode(seq, forKey: .seq)
        try container.encode(time, forKey: .time)
        try container.encode(category, forKey: .category)
        try container.encode(door, forKey: .door)
        try container.encode(method, forKey: .method)
        try container.encode(result, forKey: .result)
        try container.encode(reason, forKey: .reason)
        try container.encode(resident, forKey: .resident)
    }

    enum CodingKeys: String, CodingKey { case gate, seq, time, category, door, method, result, reason, resident }
}

extension AuditCommand {
    /// `optgate --hub URL audit heads`: the hub as the external witness of every gate's audit log.
    struct Heads: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "With --hub: each gate's audit head as the hub witnessed it, and gates whose log diverged from it.",
            discussion: """
                A gate whose audit log no longer contains the head the hub holds (cut off, rewritten, or the box \
                restored from an older copy) raised fleet.auditDiverged; it is shown here until the manager, having \
                looked into it, accepts the gate's log as it is now with --accept GATE (the gate's next head becomes \
                the witnessed one).
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Forget GATE's witnessed head (after a divergence was looked into).") var accept: String?
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            if let gate = accept {
                let had = try global.withHub { hub in try await hub.acceptAuditHead(gate: gate) }
                return print(Output.safe(had ? "gate \(gate): witnessed audit head forgotten; its next head is witnessed from now on"
                                             : "gate \(gate): the hub held no audit head for it"))
            }
            let heads = try global.withHub { hub in try await hub.witnessedHeads() }
            if json { return try Output.json(heads.map(HeadJSON.init)) }
            for head in heads {
                let witnessed = head.seq.map { "entry \($0)  hash \(head.hash.map { $0.prefix(8).map { String(format: "%02x", $0) }.joined() } ?? "")" }
                    ?? "no head yet"
                let state = head.divergence.map { "  DIVERGED: \($0)" } ?? ""
                print(Output.safe("\(head.site)  \(head.gate)  \(witnessed)\(state)"))
            }
        }

        struct HeadJSON: Encodable {
            var gate: String
            var site: String
            var seq: Int64?
            var hash: String?
            var diverged: String?

            init(_ head: WitnessedHead) {
                gate = head.gate
                site = head.site
                seq = head.seq
                hash = head.hash.map { $0.map { String(format: "%02x", $0) }.joined() }
                diverged = head.divergence
            }
        }
    }
}
