import Crypto
import _CryptoExtras

/// AES-128 for the secure channel through swift-crypto's `_CryptoExtras` (BoringSSL underneath). Kept in
/// its own file so that the fuzz build (scripts/fuzz, no SwiftPM graph) can put a stand-in beside the rest.
enum OSDPAES {
    /// One block, ECB.
    static func encryptBlock(_ key: [UInt8], _ block: [UInt8]) -> [UInt8] {
        cbcEncrypt(key, iv: Array(repeating: 0, count: 16), block)
    }

    /// Sizes are fixed by the callers (16-byte key and IV, whole blocks): a throw would be a bug.
    static func cbcEncrypt(_ key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8] {
        // swiftlint:disable:next force_try
        Array(try! AES._CBC.encrypt(data, using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: iv), noPadding: true))
    }

    static func cbcDecrypt(_ key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8] {
        // swiftlint:disable:next force_try
        Array(try! AES._CBC.decrypt(data, using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: iv), noPadding: true))
    }
}
