import Crypto
import Foundation
import Glibc

/// Keys derived from the device's master secret, which lives in a file outside the database.
///
/// A copy of the database alone does not reveal card UIDs or PINs, cannot decrypt face templates and
/// cannot be used to forge audit entries. Each purpose gets its own HKDF-derived key.
///
/// The derived keys live on locked pages that are left out of core dumps and zeroed when released
/// (`SecretBytes`); the master secret is zeroed as soon as the keys are derived from it.
public struct DeviceKeys: Sendable {
    // Raw bytes: `SymmetricKey` is not `Sendable` in swift-crypto 3.
    private let cardUIDBytes: SecretBytes
    private let pinLookupBytes: SecretBytes
    private let templateBytes: SecretBytes
    private let auditBytes: SecretBytes
    private let auditHeadBytes: SecretBytes
    private let visitorCodeBytes: SecretBytes
    private let visitorQRBytes: SecretBytes

    var cardUID: SymmetricKey { SymmetricKey(data: cardUIDBytes) }
    var pinLookup: SymmetricKey { SymmetricKey(data: pinLookupBytes) }
    var template: SymmetricKey { SymmetricKey(data: templateBytes) }
    var audit: SymmetricKey { SymmetricKey(data: auditBytes) }
    /// Signs the audit head: the head record in the database, the anchor file and `audit head`.
    var auditHead: SymmetricKey { SymmetricKey(data: auditHeadBytes) }
    /// Keys the lookup tag of a visitor's one-off keypad code (the code itself is never stored).
    var visitorCode: SymmetricKey { SymmetricKey(data: visitorCodeBytes) }
    /// The site key that signs visitor QR payloads (`VisitorQR`).
    var visitorQR: SymmetricKey { SymmetricKey(data: visitorQRBytes) }

    init(master: SymmetricKey) {
        func derive(_ label: String) -> SecretBytes {
            // The derived `SymmetricKey` zeroes its own storage when released.
            SecretBytes(copying: HKDF<SHA256>.deriveKey(
                inputKeyMaterial: master,
                salt: Array("optgate".utf8),
                info: Array(label.utf8),
                outputByteCount: 32
            ))
        }
        cardUIDBytes = derive("card-uid v1")
        pinLookupBytes = derive("pin-lookup v1")
        templateBytes = derive("face-template v1")
        auditBytes = derive("audit-chain v1")
        auditHeadBytes = derive("audit-head v1")
        visitorCodeBytes = derive("visitor-code v1")
        visitorQRBytes = derive("visitor-qr v1")
    }

    /// Reads the 32-byte master key at `path`, creating it (mode 0640) if it does not exist yet.
    ///
    /// Creation is race-free between the daemon and the CLI: the key is written to a private temporary
    /// file and hard-linked into place; whoever loses the race reads the winner's key.
    public static func loadOrCreate(at path: String) throws(GateStoreError) -> DeviceKeys {
        if let existing = try read(path) { return DeviceKeys(master: existing) }
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectory(directory, mode: 0o750)
        var bytes = [UInt8](repeating: 0, count: 32)
        defer { bytes.zeroize() }
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let temporary = "\(path).\(getpid()).tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .keyFile(path: temporary, reason: String(cString: strerror(errno))) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == 32, synced == 0 else { throw .keyFile(path: temporary, reason: "could not write the key") }
        if link(temporary, path) != 0 && errno != EEXIST {
            throw .keyFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard let key = try read(path) else { throw .keyFile(path: path, reason: "the key vanished after creation") }
        return DeviceKeys(master: key)
    }

    private static func read(_ path: String) throws(GateStoreError) -> SymmetricKey? {
        guard var data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw .keyFile(path: path, reason: "it exists but cannot be read (check its owner and mode)")
            }
            return nil
        }
        defer { data.zeroize() }
        guard data.count == 32 else {
            throw .keyFile(path: path, reason: "it holds \(data.count) bytes instead of 32; restore it from backup")
        }
        return SymmetricKey(data: data)
    }
}

func makeDirectory(_ path: String, mode: Int) throws(GateStoreError) {
    do {
        try FileManager.default.createDirectory(
            atPath: path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: mode]
        )
    } catch {
        throw .stateDirectory(path: path, reason: "\(error)")
    }
}
