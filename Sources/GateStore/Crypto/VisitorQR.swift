import Crypto
import Foundation
public import GateCore

/// The text inside a visitor's QR code: `OGV1.<pass id>.<expiry ms>.<signature>`.
///
/// The signature is HMAC-SHA256 under the site's visitor key (derived from the device's master key,
/// kept outside the database like the card key), over the first three fields, in base64url without
/// padding. The payload only says *which* pass and until when: the pass's doors, uses and revocation are
/// looked up in the store at every presentation, so a revoked or used-up pass's QR no longer opens.
/// Verification is pure: no clock, no store.
public struct VisitorQR: Sendable, Hashable {
    public static let version = "OGV1"
    /// Longest payload accepted before any parsing (a camera may read arbitrary codes).
    public static let maximumLength = 128

    public var passID: String
    public var expires: WallTime

    public init(passID: String, expires: WallTime) {
        self.passID = passID
        self.expires = expires
    }

    /// Why a payload was not accepted.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case malformed
        case badSignature

        public var description: String {
            switch self {
            case .malformed: "the text is not an optgate visitor pass"
            case .badSignature: "the visitor pass's signature does not verify (edited, or from another site)"
            }
        }
    }

    var signedPart: String { "\(Self.version).\(passID).\(expires.millisecondsSince1970)" }

    /// The signed text for the QR code.
    func text(key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signedPart.utf8), using: key)
        return "\(signedPart).\(Base64URL.encode(Array(mac)))"
    }

    /// Parses and verifies `text` under `key`.
    static func verify(_ text: String, key: SymmetricKey) -> Result<VisitorQR, Problem> {
        guard text.utf8.count <= maximumLength else { return .failure(.malformed) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == version, VisitorPassID.isWellFormed(parts[1]),
              (1...15).contains(parts[2].utf8.count), parts[2].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let milliseconds = Int64(parts[2]), let mac = Base64URL.decode(parts[3]), mac.count == 32
        else { return .failure(.malformed) }
        let payload = VisitorQR(passID: parts[1], expires: WallTime(millisecondsSince1970: milliseconds))
        let expected = HMAC<SHA256>.authenticationCode(for: Array(payload.signedPart.utf8), using: key)
        guard constantTimeEqual(Array(expected), mac) else { return .failure(.badSignature) }
        return .success(payload)
    }
}

extension DeviceKeys {
    func visitorQRText(_ payload: VisitorQR) -> String { payload.text(key: visitorQR) }

    /// Parses and verifies a visitor QR payload under the site's key.
    func verifyVisitorQR(_ text: String) -> Result<VisitorQR, VisitorQR.Problem> { VisitorQR.verify(text, key: visitorQR) }

    /// The keyed lookup tag of a visitor's keypad code.
    func visitorCodeTag(_ code: PIN) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Array("visitor:\(code.digits)".utf8), using: visitorCode))
    }
}

/// Pass ids: `v` and 12 lowercase hex digits.
public enum VisitorPassID {
    public static func isWellFormed(_ id: String) -> Bool {
        let utf8 = Array(id.utf8)
        return utf8.count == 13 && utf8[0] == UInt8(ascii: "v")
            && utf8.dropFirst().allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return "v" + (0..<6).map { _ in UInt8.random(in: 0...255, using: &generator) }.hex
    }
}

/// base64url without padding (RFC 4648 §5), strict: no padding, no other characters.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ c in
            (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == 0x2d || c == 0x5f
        }), text.utf8.count % 4 != 1 else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        guard let data = Data(base64Encoded: standard) else { return nil }
        // Canonical only: a second spelling of the same bytes (non-zero unused bits) is refused.
        guard encode(Array(data)) == text else { return nil }
        return Array(data)
    }
}
