import Foundation
import PostgresNIO

/// Where the hub is: `postgresql://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE]`, or a unix socket directory as
/// `postgresql://[USER@]/DATABASE?host=/run/postgresql`. Defaults: user `optgate_admin`, port 5432, database
/// `optgate`. A hub that is not on loopback or a unix socket is reached only over TLS with the server's
/// certificate verified against the system's trust store and its host name (or IP address); there is no way to
/// turn that off. A hub whose certificate comes from a private CA names that CA's PEM file, as libpq does, with
/// `?sslrootcert=/path/ca.pem` (the CLI) or `fleet.caFile` (a gate): then that CA is the only one trusted.
public struct HubEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String?
    public var socketDirectory: String?
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// The PEM file of the CA the hub's certificate must chain to, instead of the system's trust store.
    public var caFile: String?

    public init(url text: String) throws(HubError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              ["postgresql", "postgres"].contains(scheme)
        else { throw .badURL("it must look like postgresql://HOST:PORT/DATABASE") }
        let socket = components.queryItems?.first { $0.name == "host" }?.value
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        if socket == nil && host == nil { throw .badURL("it names no host") }
        if let socket, !socket.hasPrefix("/") { throw .badURL("host= must be an absolute socket directory") }
        for item in components.queryItems ?? [] where item.name != "host" && item.name != "sslrootcert" {
            throw .badURL("the parameter \(item.name) is not understood (TLS is chosen by the host: required off loopback)")
        }
        if let ca = components.queryItems?.first(where: { $0.name == "sslrootcert" })?.value {
            guard ca.hasPrefix("/") else { throw .badURL("sslrootcert= must be an absolute path to a PEM file") }
            caFile = ca
        }
        self.host = socket == nil ? host : nil
        socketDirectory = socket
        port = components.port ?? 5432
        user = components.user.flatMap { $0.removingPercentEncoding } ?? "optgate_admin"
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? "optgate" : path
        if !(1...63).contains(database.utf8.count) || database.contains("/") { throw .badURL("the database name is not valid") }
    }

    /// The same hub reached as another role (a gate's own).
    public func authenticating(as user: String, password: String?) -> HubEndpoint {
        var copy = self
        copy.user = user
        copy.password = password
        return copy
    }

    /// The same hub, its certificate verified against the CA in `caFile` (nil: the system's trust store).
    public func trusting(caFile: String?) -> HubEndpoint {
        guard let caFile else { return self }
        var copy = self
        copy.caFile = caFile
        return copy
    }

    /// Checks that `caFile`, when set, holds at least one PEM certificate (a daemon checks this at startup).
    public func checkTrust() throws(HubError) {
        guard let caFile else { return }
        do {
            if try NIOSSLCertificate.fromPEMFile(caFile).isEmpty { throw HubError.trust(path: caFile, reason: "it holds no certificate") }
        } catch let error as HubError {
            throw error
        } catch {
            throw .trust(path: caFile, reason: "it is not a readable PEM certificate file (\(error))")
        }
    }

    /// The URL without any password: what logs, status and `gate add` show.
    public var description: String {
        if let socketDirectory { return "postgresql://\(user)@/\(database)?host=\(socketDirectory)" }
        let shownHost = host!.contains(":") ? "[\(host!)]" : host!
        return "postgresql://\(user)@\(shownHost):\(port)/\(database)"
    }

    /// The URL as a gate's credentials file names its hub: no user, no password.
    public var address: String {
        if let socketDirectory { return "postgresql:///\(database)?host=\(socketDirectory)" }
        let shownHost = host!.contains(":") ? "[\(host!)]" : host!
        return "postgresql://\(shownHost):\(port)/\(database)"
    }

    public var isLocal: Bool {
        guard let host else { return true }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func configuration(database override: String? = nil) throws -> PostgresConnection.Configuration {
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password,
                database: override ?? database)
        }
        let tls: PostgresConnection.Configuration.TLS
        if isLocal {
            tls = .disable
        } else {
            // makeClientConfiguration verifies the chain (against the system roots, or only the CA in caFile)
            // and the host name, or the IP address against the certificate's IP subjectAltName.
            var client = TLSConfiguration.makeClientConfiguration()
            if let caFile { client.trustRoots = .file(caFile) }
            tls = .require(try NIOSSLContext(configuration: client))
        }
        return PostgresConnection.Configuration(host: host!, port: port, username: user, password: password,
                                                database: override ?? database, tls: tls)
    }
}

/// What went wrong talking to the hub, as a sentence.
public enum HubError: Error, CustomStringConvertible, Equatable {
    case badURL(String)
    case unreachable(String, reason: String)
    case refused(String)
    case notFound(String)
    case conflict(String)
    case credentials(path: String, reason: String)
    case trust(path: String, reason: String)

    public var description: String {
        switch self {
        case .badURL(let reason): "The hub URL is not valid: \(reason)."
        case .unreachable(let hub, let reason): "The hub \(hub) cannot be reached: \(reason)."
        case .refused(let reason): "The hub refused the request: \(reason)."
        case .notFound(let what): "\(what) does not exist on the hub."
        case .conflict(let what): "\(what)."
        case .credentials(let path, let reason): "The hub credentials file \(path) cannot be used: \(reason)."
        case .trust(let path, let reason): "The hub CA file \(path) cannot be used: \(reason)."
        }
    }

    /// The server's own message for a query error (PostgresNIO's description hides it on purpose).
    static func from(_ error: any Error) -> HubError {
        if let hubError = error as? HubError { return hubError }
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] {
                if psql.serverInfo?[.sqlState] == "23505" { return .conflict(message) }
                return .refused(message)
            }
            return .refused("\(psql.code)")
        }
        if let transaction = error as? PostgresTransactionError {
            return from(transaction.closureError ?? transaction.commitError ?? transaction.beginError ?? error)
        }
        return .refused(String(describing: error))
    }
}
