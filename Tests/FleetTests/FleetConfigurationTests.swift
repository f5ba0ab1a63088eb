import Foundation
import GateConfiguration
import GateCore
import GateHub
import GateStore
import Testing

/// The `fleet` config section and the hub URL, parsed strictly (no PostgreSQL needed).
struct FleetConfigurationTests {
    static func parse(_ fleet: String) throws(ConfigurationError) -> DaemonConfiguration {
        try DaemonConfiguration(json: Data("{\"fleet\": \(fleet)}".utf8))
    }

    @Test func aCompleteSectionParsesAndSingleBoxHasNone() throws {
        #expect(DaemonConfiguration.defaults.fleet == nil)
        let fleet = try #require(try Self.parse("""
            {"hub": "postgresql://10.0.0.5:5432/optgate", "credentialsFile": "/etc/optgate/hub.credentials",
             "site": "north", "gate": "g1", "staleAfterSeconds": 300}
            """).fleet)
        #expect(fleet.gate == "g1" && fleet.site == "north" && fleet.staleAfter == .seconds(300) && fleet.poll == .seconds(5))
    }

    @Test(arguments: [
        (#"{"hub": "postgresql://h/db", "credentialsFile": "/c", "site": "s"}"#, "fleet.gate"),
        (#"{"hub": "postgresql://u:secret@h/db", "credentialsFile": "/c", "site": "s", "gate": "g"}"#, "fleet.hub"),
        (#"{"hub": "mysql://h/db", "credentialsFile": "/c", "site": "s", "gate": "g"}"#, "fleet.hub"),
        (#"{"hub": "postgresql://h/db", "credentialsFile": "relative", "site": "s", "gate": "g"}"#, "fleet.credentialsFile"),
        (#"{"hub": "postgresql://h/db", "credentialsFile": "/c", "site": "s", "gate": "g", "staleAfterSeconds": 1}"#, "fleet.staleAfterSeconds"),
        (#"{"hub": "postgresql://h/db", "credentialsFile": "/c", "site": "s", "gate": "g", "password": "x"}"#, "fleet.password"),
        (#"{"hub": "postgresql://h/db", "credentialsFile": "/c", "site": "s", "gate": "g", "caFile": "ca.pem"}"#, "fleet.caFile"),
    ])
    func badSectionsRefuseToStart(json: String, key: String) {
        do {
            _ = try Self.parse(json)
            Issue.record("\(json) was accepted")
        } catch {
            #expect(error.key == key, "\(error)")
        }
    }

    @Test func hubURLs() throws {
        let local = try HubEndpoint(url: "postgresql://127.0.0.1:5544/fleet")
        #expect(local.isLocal && local.port == 5544 && local.database == "fleet" && local.user == "optgate_admin")
        let remote = try HubEndpoint(url: "postgresql://mgr:s3cret@hub.example.com/optgate")
        #expect(!remote.isLocal && remote.password == "s3cret")
        #expect(!remote.description.contains("s3cret"), "a URL as shown never holds the password")
        #expect(throws: HubError.self) { try HubEndpoint(url: "postgresql://hub.example.com/optgate?sslmode=disable") }
        #expect(throws: HubError.self) { try HubEndpoint(url: "http://hub.example.com/optgate") }
    }

    /// A private CA is named (fleet.caFile, ?sslrootcert=); nothing turns verification off.
    @Test func aPrivateCAIsNamedAndChecked() throws {
        let fleet = try #require(try Self.parse("""
            {"hub": "postgresql://10.77.1.1:5432/optgate", "credentialsFile": "/etc/optgate/hub.credentials",
             "site": "north", "gate": "g1", "caFile": "/etc/optgate/hub-ca.pem"}
            """).fleet)
        #expect(fleet.caFile == "/etc/optgate/hub-ca.pem")
        let manager = try HubEndpoint(url: "postgresql://10.77.1.1/optgate?sslrootcert=/etc/optgate/hub-ca.pem")
        #expect(manager.caFile == "/etc/optgate/hub-ca.pem" && !manager.isLocal)
        #expect(throws: HubError.self) { try HubEndpoint(url: "postgresql://10.77.1.1/optgate?sslrootcert=ca.pem") }
        #expect(throws: HubError.self) { try HubEndpoint(url: "postgresql://10.77.1.1/optgate?sslrootcert=/ca.pem&sslmode=require") }
        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("og-ca-\(UUID().uuidString.prefix(8)).pem").path
        defer { unlink(notPEM) }
        try "not a certificate".write(toFile: notPEM, atomically: true, encoding: .utf8)
        #expect(throws: HubError.self) { try manager.trusting(caFile: notPEM).checkTrust() }
        #expect(throws: HubError.self) { try manager.trusting(caFile: "/nonexistent/ca.pem").checkTrust() }
        try HubEndpoint(url: "postgresql://10.77.1.1/optgate").checkTrust()  // the system's trust store: nothing to check
        let pem = FileManager.default.temporaryDirectory.appendingPathComponent("og-ca-\(UUID().uuidString.prefix(8))").path
        defer { unlink("\(pem).pem"); unlink("\(pem).key") }
        let made = execute("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                "-days", "1", "-subj", "/CN=test CA", "-keyout", "\(pem).key", "-out", "\(pem).pem"])
        try #require(made.succeeded, "\(made.stderr)")
        try manager.trusting(caFile: "\(pem).pem").checkTrust()
    }

    @Test func siteTagsAreTheSameAtHubAndGateAndDifferPerSite() {
        let key = SiteKeys.generate()
        let uid = CardUID("04A1B2C3")!
        #expect(SiteKeys(hex: key.hex)!.cardTag(of: uid) == key.cardTag(of: uid))
        #expect(SiteKeys.generate().cardTag(of: uid) != key.cardTag(of: uid))
        #expect(SiteKeys(hex: "00") == nil)
    }
}
