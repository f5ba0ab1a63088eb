import Crypto
public import Foundation
public import GateCore

/// The keys every gate of a fleet site shares (docs/fleet.md): a card tapped at any gate of the site must find
/// the tag the hub stored when the manager enrolled it, and a PIN typed alone must find its lookup tag.
///
/// One 32-byte site secret, created by `optgate site add`, kept in the hub's `site_secret` table (which no
/// gate role can read) and handed to each gate once, in the credentials file `optgate gate add` prints.
/// Card and PIN-lookup keys are derived from it with HKDF, exactly as `DeviceKeys` derives a box's own keys
/// from its master secret, so a tag made at the hub and one made at a gate are the same bytes.
public struct SiteKeys: Sendable {
    private let secret: [UInt8]

    /// - Returns: `nil` unless `hex` is 64 hex digits.
    public init?(hex: String) {
        guard let bytes = [UInt8](hex: hex), bytes.count == 32 else { return nil }
        secret = bytes
    }

    /// A fresh random site secret.
    public static func generate() -> SiteKeys {
        var generator = SystemRandomNumberGenerator()
        return SiteKeys(hex: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.hex)!
    }

    /// The secret as 64 hex digits, for the hub and the gate's credentials file only; never logged.
    public var hex: String { secret.hex }

    func derive(_ label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), salt: Array("optgate".utf8),
                               info: Array(label.utf8), outputByteCount: 32)
    }

    /// The card's keyed tag: HMAC-SHA256 of the normalised UID (as `DeviceKeys` makes it on a single box).
    public func cardTag(of uid: CardUID) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Array(uid.hex.utf8), using: derive("card-uid v1")))
    }

    /// The keyed lookup tag of a PIN typed alone.
    public func pinLookupTag(of pin: PIN) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Array(pin.digits.utf8), using: derive("pin-lookup v1")))
    }
}

/// The slow salted PIN hash (`scrypt$N$r$p$salt$hash`) a hub stores: salted per PIN, so it is the same format
/// at every gate and needs no key.
public enum PortablePINHash {
    public static func make(_ pin: PIN) throws -> String { try PinHash.make(pin) }
    public static func verify(_ pin: PIN, against stored: String) -> Bool { PinHash.verify(pin, against: stored) }
}
