import Crypto
public import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SwiftASN1
import X509

/// The console's own certificate authority (docs/console.md#tls): on a LAN address the console serves HTTPS with a
/// server certificate signed by a CA that this device generated on first start. The manager downloads the CA
/// certificate (`/ca.crt`), compares its SHA-256 fingerprint with the one printed on the device, and trusts it
/// in the browser. Keys are P-256, written 0600 into a 0700 directory owned by the console's user; no key is
/// ever logged or served.
public struct ConsoleTLS: Sendable {
    /// The CA certificate, PEM (what `/ca.crt` serves).
    public let caPEM: String
    /// SHA-256 of the CA certificate's DER bytes, as `AB:CD:…` (what browsers and `openssl x509 -fingerprint -sha256` show).
    public let caFingerprint: String
    /// The server certificate chain (leaf, then the CA) and the leaf's key, PEM.
    public let serverChainPEM: [String]
    public let serverKeyPEM: String
    /// The names and addresses the server certificate covers.
    public let serverNames: [String]
    /// Whether the CA was created by this call (first start).
    public let createdAuthority: Bool

    static let caKeyFile = "ca.key", caCertFile = "ca.crt", serverKeyFile = "server.key", serverCertFile = "server.crt",
               serverNamesFile = "server.names"
    /// The CA lives 10 years, the server certificate 397 days (what browsers accept for a leaf) and is renewed
    /// at start when fewer than 30 days are left or the names changed.
    static let caLifetime: TimeInterval = 10 * 365 * 86400
    static let serverLifetime: TimeInterval = 397 * 86400
    static let renewBefore: TimeInterval = 30 * 86400

    /// Loads the CA and the server certificate from `directory`, creating what is missing, and issues a new server
    /// certificate when `names` (DNS names and IP addresses) differ from the stored one's or it is about to expire.
    public static func prepare(directory: String, names: [String], now: Date = Date()) throws -> ConsoleTLS {
        let files = FileManager.default
        if !files.fileExists(atPath: directory) {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        func path(_ name: String) -> String { "\(directory)/\(name)" }
        func read(_ name: String) -> String? { files.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) } }

        // The authority: kept for its whole life (browsers trust it once).
        let caKey: P256.Signing.PrivateKey
        let caCertificate: Certificate
        var created = false
        if let keyPEM = read(caKeyFile), let certPEM = read(caCertFile) {
            do {
                caKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
                caCertificate = try Certificate(pemEncoded: certPEM)
            } catch {
                throw ConsoleTLSError("\(path(caKeyFile)) or \(path(caCertFile)) cannot be read (\(error)); move both away to make a new CA, then trust the new one in the browsers.")
            }
            guard caCertificate.publicKey == Certificate.PublicKey(caKey.publicKey) else {
                throw ConsoleTLSError("\(path(caKeyFile)) is not the key of \(path(caCertFile)); move both away to make a new CA.")
            }
        } else if read(caKeyFile) == nil, read(caCertFile) == nil {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("optgate")
                CommonName("optgate console CA \(ProcessInfo.processInfo.hostName) \(Self.shortID())")
            }
            caCertificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(caLifetime),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))
            try write(caKey.pemRepresentation, to: path(caKeyFile), mode: 0o600)
            try write(try caCertificate.serializeAsPEM().pemString, to: path(caCertFile), mode: 0o644)
            created = true
        } else {
            throw ConsoleTLSError("only one of \(path(caKeyFile)) and \(path(caCertFile)) exists; restore the other or move both away to make a new CA.")
        }

        // The server certificate: reissued when the names change or it nears its end.
        let wanted = Array(Set(names)).sorted()
        var serverKeyPEM = read(serverKeyFile)
        var serverCertPEM = read(serverCertFile)
        if let certPEM = serverCertPEM, let keyPEM = serverKeyPEM, read(serverNamesFile) == wanted.joined(separator: "\n"),
           let certificate = try? Certificate(pemEncoded: certPEM), let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM),
           certificate.publicKey == Certificate.PublicKey(key.publicKey), certificate.issuer == caCertificate.subject,
           certificate.notValidAfter.timeIntervalSince(now) > renewBefore {
            // still good
        } else {
            let key = P256.Signing.PrivateKey()
            let subject = try DistinguishedName {
                OrganizationName("optgate")
                CommonName(wanted.first { !IPAddressText.isLoopback($0) } ?? "localhost")
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: min(now.addingTimeInterval(serverLifetime), caCertificate.notValidAfter),
                issuer: caCertificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(wanted.map(Self.generalName))
                    SubjectKeyIdentifier(hash: .init(key.publicKey))
                    AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: .init(caKey.publicKey)).keyIdentifier)
                },
                issuerPrivateKey: .init(caKey))
            serverKeyPEM = key.pemRepresentation
            serverCertPEM = try certificate.serializeAsPEM().pemString
            try write(serverKeyPEM!, to: path(serverKeyFile), mode: 0o600)
            try write(serverCertPEM!, to: path(serverCertFile), mode: 0o644)
            try write(wanted.joined(separator: "\n"), to: path(serverNamesFile), mode: 0o644)
        }
        let caPEM = try caCertificate.serializeAsPEM().pemString
        var serializer = DER.Serializer()
        try serializer.serialize(caCertificate)
        let fingerprint = SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02X", $0) }.joined(separator: ":")
        return ConsoleTLS(caPEM: caPEM, caFingerprint: fingerprint, serverChainPEM: [serverCertPEM!, caPEM], serverKeyPEM: serverKeyPEM!,
                          serverNames: wanted, createdAuthority: created)
    }

    /// A DNS name or an IP address (v4 or v6) as a subject alternative name.
    static func generalName(_ name: String) -> GeneralName {
        if let bytes = IPAddressText.bytes(name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))) }
        return .dnsName(name)
    }

    /// Writes through a temporary file and a rename, with the mode set before any byte is written.
    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".new"
        try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: mode]) else {
            throw ConsoleTLSError("cannot write \(temporary)")
        }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
        try handle.close()
        if rename(temporary, path) != 0 { throw ConsoleTLSError("cannot rename \(temporary) to \(path)") }
    }

    static func shortID() -> String {
        (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// The names a server certificate for `host` covers: the address itself, or for a wildcard address every
    /// address of this machine; plus the machine's host name and `localhost`.
    public static func names(forHost host: String) -> [String] {
        var names: Set<String> = ["localhost", "127.0.0.1", "::1"]
        let hostName = ProcessInfo.processInfo.hostName
        if !hostName.isEmpty, IPAddressText.bytes(hostName) == nil { names.insert(hostName) }
        if host == "0.0.0.0" || host == "::" || host.isEmpty {
            for address in Host.current().addresses {
                let plain = address.split(separator: "%").first.map(String.init) ?? address
                if IPAddressText.bytes(plain) != nil { names.insert(plain) }
            }
        } else {
            names.insert(host)
        }
        return names.sorted()
    }
}

/// An IP address in text (`192.0.2.2`, `fe80::1`) as its 4 or 16 bytes; nil for anything else.
public enum IPAddressText {
    public static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// `localhost`, 127.0.0.0/8 and ::1: the addresses only this machine reaches.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        guard let bytes = bytes(host) else { return false }
        if bytes.count == 4 { return bytes[0] == 127 }
        return bytes == [UInt8](repeating: 0, count: 15) + [1]
    }
}

public struct ConsoleTLSError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
