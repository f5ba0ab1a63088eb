/// The `fleet` section (docs/fleet.md): this gate replicates its site's directory from a PostgreSQL hub.
/// Absent: single-box mode, exactly as without fleet support.
///
/// - `hub` (string, required): `postgresql://HOST:PORT/DATABASE`; TLS with verification off loopback.
/// - `credentialsFile` (string, required, secret file): the JSON `optgate gate add` printed, root-only (0600);
///   the password and the site key live only there, never in this file or a log.
/// - `site` (string, required), `gate` (string, required): must match the credentials file.
/// - `staleAfterSeconds` (number, default 300, 5–604800): without a successful sync for this long, `status`
///   shows `stale` and one `fleet.stale` alarm is recorded.
/// - `pollSeconds` (number, default 5, 0.2–3600): pull even without a notification, at this interval.
/// - `caFile` (string, optional, absolute): the PEM file of the private CA the hub's TLS certificate chains to;
///   then only that CA is trusted (without it: the system's trust store). Verification is never off.
public struct FleetConfiguration: Sendable, Hashable {
    public var hub: String
    public var credentialsFile: String
    public var site: String
    public var gate: String
    public var staleAfter: Duration
    public var poll: Duration
    public var caFile: String?

    static func parse(_ root: inout ConfigObject) throws(ConfigurationError) -> FleetConfiguration? {
        guard root.has("fleet") else { return nil }
        var object = try root.object("fleet")
        func required(_ key: String) throws(ConfigurationError) -> String {
            guard let value = try object.string(key, default: nil), !value.isEmpty else {
                throw ConfigurationError(key: "fleet.\(key)", problem: "is required in a fleet section")
            }
            return value
        }
        let hub = try required("hub")
        guard hub.hasPrefix("postgresql://") || hub.hasPrefix("postgres://") else {
            throw ConfigurationError(key: "fleet.hub", problem: "must be a postgresql://HOST:PORT/DATABASE URL")
        }
        if hub.contains("@") {
            throw ConfigurationError(key: "fleet.hub", problem: "must not hold a user or password: those belong in fleet.credentialsFile")
        }
        let credentialsFile = try required("credentialsFile")
        guard credentialsFile.hasPrefix("/") else {
            throw ConfigurationError(key: "fleet.credentialsFile", problem: "must be an absolute path")
        }
        let caFile = try object.string("caFile", default: nil)
        if let caFile, !caFile.hasPrefix("/") {
            throw ConfigurationError(key: "fleet.caFile", problem: "must be an absolute path")
        }
        var fleet = FleetConfiguration(
            hub: hub, credentialsFile: credentialsFile, site: try required("site"), gate: try required("gate"),
            staleAfter: .milliseconds(Int64(try object.number("staleAfterSeconds", default: 300, range: 5...604_800) * 1000)),
            poll: .milliseconds(Int64(try object.number("pollSeconds", default: 5, range: 0.2...3600) * 1000)))
        fleet.caFile = caFile
        try object.finish()
        return fleet
    }
}
