import Foundation
import GateHub
import Testing

/// The hub's schema, roles and row-level security, tried with the real `optgate` CLI and `psql`.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct HubSchemaTests {
    @Test func initIsRepeatableAndGateRolesAreConfinedToTheirSiteAndThemselves() throws {
        let cluster = try PostgresCluster()
        let first = cluster.cli(["hub", "init"])
        #expect(first.succeeded, "\(first.stderr)")
        #expect(first.stdout.contains("hub-v1"))
        let again = cluster.cli(["hub", "init"])
        #expect(again.succeeded && again.stdout.contains("up to date"), "\(again.stdout)\(again.stderr)")

        #expect(cluster.cli(["site", "add", "north"]).succeeded)
        #expect(cluster.cli(["site", "add", "south"]).succeeded)
        #expect(!cluster.cli(["site", "add", "north"]).succeeded, "a site name is unique")
        let gate = cluster.cli(["gate", "add", "n1", "--site", "north", "--json"])
        try #require(gate.succeeded, "\(gate.stderr)")
        let credentials = try JSONDecoder().decode(GateCredentials.self, from: Data(gate.stdout.utf8))
        #expect(credentials.gate == "n1" && credentials.site == "north" && credentials.password.count == 64)
        #expect(!credentials.hub.contains(credentials.password) && !credentials.hub.contains("@"))
        let other = cluster.cli(["gate", "add", "s1", "--site", "south", "--json"])
        try #require(other.succeeded)
        let otherCredentials = try JSONDecoder().decode(GateCredentials.self, from: Data(other.stdout.utf8))
        #expect(otherCredentials.siteKey != credentials.siteKey, "each site has its own card key")

        let northResident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101", "--site", "north"]).line
        let southResident = cluster.cli(["resident", "add", "--name", "Wang Fang", "--unit", "2-202", "--site", "south"]).line
        #expect(northResident.hasPrefix("r") && southResident.hasPrefix("r"))
        #expect(!cluster.cli(["resident", "add", "--name", "X", "--unit", "1"]).succeeded, "two sites: --site is needed")
        #expect(cluster.cli(["card", "add", southResident, "--uid", "04A1B2C3"]).succeeded)

        let (user, password) = (credentials.user, credentials.password)
        // Its own site: readable.
        #expect(cluster.psql("SELECT id FROM resident", user: user, password: password).line == northResident)
        // Another site's residents and cards: not a single row.
        #expect(cluster.psql("SELECT count(*) FROM resident WHERE id = '\(southResident)'", user: user, password: password).line == "0")
        #expect(cluster.psql("SELECT count(*) FROM card", user: user, password: password).line == "0")
        // The site secrets: no grant at all.
        let secret = cluster.psql("SELECT * FROM site_secret", user: user, password: password)
        #expect(!secret.succeeded && secret.stderr.contains("permission denied"), "\(secret.stderr)")
        // Events: only as itself.
        let ownGate = cluster.psql("SELECT id FROM gate WHERE name = 'n1'").line
        let otherGate = cluster.psql("SELECT id FROM gate WHERE name = 's1'").line
        let forged = cluster.psql("""
            INSERT INTO event (gate_id, local_seq, site_id, time, category) VALUES (\(otherGate), 1, (SELECT site_id FROM gate WHERE id = \(otherGate)), now(), 'access')
            """, user: user, password: password)
        #expect(!forged.succeeded && forged.stderr.contains("row-level security"), "\(forged.stderr)")
        let own = cluster.psql("""
            INSERT INTO event (gate_id, local_seq, site_id, time, category) VALUES (\(ownGate), 1, (SELECT site_id FROM gate WHERE id = \(ownGate)), now(), 'access')
            """, user: user, password: password)
        #expect(own.succeeded, "\(own.stderr)")
        // Writing the directory: refused.
        let write = cluster.psql("UPDATE resident SET unit = 'x'", user: user, password: password)
        #expect(!write.succeeded && write.stderr.contains("permission denied"))
        // The change log and the consent ledger are append-only even for the owner.
        #expect(!cluster.psql("DELETE FROM change").succeeded)
        // A wrong password is refused.
        #expect(!cluster.psql("SELECT 1", user: user, password: String(repeating: "0", count: 64)).succeeded)
    }

    @Test func aDumpOfTheHubHoldsNoFaceTemplateOrFaceColumn() throws {
        let cluster = try PostgresCluster()
        try #require(cluster.cli(["hub", "init"]).succeeded)
        try #require(cluster.cli(["site", "add", "north"]).succeeded)
        let resident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        try #require(cluster.cli(["card", "add", resident, "--uid", "04A1B2C3"]).succeeded)
        let granted = cluster.cli(["consent", "grant", resident, "--notice-version", "1", "--language", "en"])
        try #require(granted.succeeded, "\(granted.stderr)")
        let dump = execute("/usr/bin/pg_dump", ["-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", "optgate_admin", "-d", "optgate"])
        try #require(dump.succeeded, "\(dump.stderr)")
        // `deletion_receipt.templates_deleted` is the one mention: a count of templates a gate deleted.
        let lowered = dump.stdout.lowercased().replacingOccurrences(of: "templates_deleted", with: "")
        #expect(!lowered.contains("template"), "no template table or column")
        #expect(!lowered.contains("embedding") && !lowered.contains("face_") && !lowered.contains("sealed"))
        #expect(!lowered.contains("04a1b2c3"), "card UIDs only as keyed tags")
        #expect(lowered.contains("create table public.consent"), "consent rows are replicated")
    }
}
