import Crypto
import _CryptoExtras
import Foundation
import GateCore

/// Card UIDs as the store keeps them: a keyed hash for lookup and the last four hex digits for display.
struct CardFingerprint: Sendable {
    /// HMAC-SHA256 of the normalised UID under the device's card key.
    var tag: Data
    var last4: String
}

extension DeviceKeys {
    func fingerprint(of uid: CardUID) -> CardFingerprint {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(uid.hex.utf8), using: cardUID)
        return CardFingerprint(tag: Data(mac), last4: uid.last4)
    }

    /// A keyed tag that finds the PIN's owner without a slow hash per resident; the slow hash then confirms.
    func lookupTag(of pin: PIN) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Array(pin.digits.utf8), using: pinLookup))
    }
}

/// Slow salted PIN hashes (scrypt, N = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per check),
/// stored as `scrypt$N$r$p$salt-hex$hash-hex`.
enum PinHash {
    static let rounds = 1 << 15
    static let blockSize = 8
    static let parallelism = 1
    /// A hash of no one's PIN, checked when there is nobody to check, so the time taken says nothing.
    static let placeholder: String = (try? make(PIN("0000000000000")!)) ?? ""

    static func make(_ pin: PIN) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hash = try derive(pin, salt: salt, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(salt.hex)$\(hash.hex)"
    }

    static func verify(_ pin: PIN, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = [UInt8](hex: parts[4]), let expected = [UInt8](hex: parts[5]),
              let actual = try? derive(pin, salt: salt, rounds: n, blockSize: r, parallelism: p)
        else { return false }
        return constantTimeEqual(actual, expected)
    }

    private static func derive(_ pin: PIN, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(pin.digits.utf8), salt: salt, outputByteCount: 32,
            rounds: rounds, blockSize: blockSize, parallelism: parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}

extension Sequence where Element == UInt8 {
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    case 0x41...0x46: c - 0x41 + 10
    default: nil
    }
}

extension DeviceKeys {
    /// A keyed token of an erased resident's id, kept in the erasure tombstone instead of the id.
    func erasureToken(for residentID: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array("erasure:\(residentID)".utf8), using: audit).hex
    }
}
