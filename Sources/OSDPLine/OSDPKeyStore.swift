import Foundation
import Glibc

/// Per-reader OSDP secure-channel keys (SCBK, 16 random bytes), kept beside the device's master key in
/// `<state>/keys/` (mode 0640, directory 0750): `osdp-<device name>-<address>.scbk`. Set only by
/// `optgate reader pair`; read by the daemon when the reader starts. Never logged.
public struct OSDPKeyStore: Sendable {
    public let directory: String

    public init(stateDirectory: String) {
        directory = "\(stateDirectory)/keys"
    }

    /// The key file of the reader at `address` on `device` (`/dev/ttyUSB0` → `osdp-ttyUSB0-1.scbk`).
    public func path(device: String, address: UInt8) -> String {
        let name = device.split(separator: "/").last.map(String.init) ?? "line"
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "\(directory)/osdp-\(safe)-\(address).scbk"
    }

    /// The reader's key, or `nil` when it was never paired.
    public func key(device: String, address: UInt8) throws -> [UInt8]? {
        let path = path(device: device, address: address)
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw OSDPKeyError("\(path) exists but cannot be read (check its owner and mode)") }
            return nil
        }
        guard data.count == 16 else { throw OSDPKeyError("\(path) holds \(data.count) bytes instead of 16; pair the reader again") }
        return Array(data)
    }

    /// A fresh random key (never the install-mode SCBK-D).
    public static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Stores `key` for the reader, replacing an older one atomically.
    public func store(_ key: [UInt8], device: String, address: UInt8) throws {
        mkdir(directory, 0o750)
        let path = path(device: device, address: address)
        let temporary = "\(path).\(getpid()).tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw OSDPKeyError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == key.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw OSDPKeyError("cannot store the key in \(path)")
        }
    }
}

public struct OSDPKeyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
