import Crypto
public import Foundation
public import GateCore

/// The newest entry of the audit chain, signed with the device's head key: its seq, its chain hash
/// and when it was written.
///
/// The same signed value lives in three places so that cutting entries off the end, wiping the log
/// or restoring an older database file is seen: the `auditHead` row in the database, the anchor file
/// `audit.anchor` beside it (docs/privacy.md), and wherever an outside witness keeps a copy
/// (`optgate audit head --json`; a line `audit head` in the daemon's journal).
/// `seq` 0 with an all-zero hash is the head of an empty log.
public struct SignedAuditHead: Sendable, Hashable {
    public var seq: Int64
    /// The chain hash of entry `seq` (the genesis hash for seq 0).
    public var hash: Data
    public var time: WallTime
    /// HMAC-SHA256 under the device's head key over the three fields above.
    public var mac: Data

    static let empty = (seq: Int64(0), hash: AuditChain.genesis)

    init(seq: Int64, hash: Data, time: WallTime, key: SymmetricKey) {
        self.seq = seq
        self.hash = hash
        self.time = time
        mac = Self.authenticationCode(seq: seq, hash: hash, time: time, key: key)
    }

    public init(seq: Int64, hash: Data, time: WallTime, mac: Data) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.mac = mac
    }

    /// Whether this device signed exactly these fields.
    func isAuthentic(key: SymmetricKey) -> Bool {
        constantTimeEqual(Array(Self.authenticationCode(seq: seq, hash: hash, time: time, key: key)), Array(mac))
    }

    static func authenticationCode(seq: Int64, hash: Data, time: WallTime, key: SymmetricKey) -> Data {
        var code = HMAC<SHA256>(key: key)
        code.update(data: Array("optgate audit head v1".utf8))
        withUnsafeBytes(of: seq.bigEndian) { code.update(data: Data($0)) }
        code.update(data: hash)
        withUnsafeBytes(of: time.millisecondsSince1970.bigEndian) { code.update(data: Data($0)) }
        return Data(code.finalize())
    }

    /// The first 16 hex digits of the chain hash: what the journal's `audit head` lines carry.
    public var shortHash: String { hash.prefix(8).hex }
}

extension SignedAuditHead: Codable {
    enum CodingKeys: String, CodingKey {
        case seq, hash, time, timeMs, mac
    }

    /// `{"seq", "hash", "time" (ISO 8601, for people), "timeMs" (signed), "mac"}`; hex for bytes.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(hash.hex, forKey: .hash)
        try container.encode(time.iso8601, forKey: .time)
        try container.encode(time.millisecondsSince1970, forKey: .timeMs)
        try container.encode(mac.hex, forKey: .mac)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seq = try container.decode(Int64.self, forKey: .seq)
        time = WallTime(millisecondsSince1970: try container.decode(Int64.self, forKey: .timeMs))
        func bytes(_ key: CodingKeys) throws -> Data {
            guard let value = [UInt8](hex: try container.decode(String.self, forKey: key)), value.count == 32 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "expected 64 hex digits")
            }
            return Data(value)
        }
        hash = try bytes(.hash)
        mac = try bytes(.mac)
    }
}

/// A head kept by an outside witness: a signed head saved from `optgate audit head --json`, or only
/// the seq and (a prefix of at least 16 hex digits of) the chain hash, as an `audit head` journal line
/// shows them.
public struct AuditWitness: Sendable, Hashable {
    public var seq: Int64
    public var hashPrefix: [UInt8]
    public var time: WallTime?
    /// The full signed head when the witness holds one; its MAC is checked.
    public var signed: SignedAuditHead?

    public init(_ head: SignedAuditHead) {
        seq = head.seq
        hashPrefix = Array(head.hash)
        time = head.time
        signed = head
    }

    /// - Returns: `nil` unless `hash` is 16 to 64 hex digits.
    public init?(seq: Int64, hash: String) {
        guard seq >= 0, (16...64).contains(hash.count), let bytes = [UInt8](hex: hash) else { return nil }
        self.seq = seq
        hashPrefix = bytes
    }

    /// Reads a witness file: the JSON of `audit head --json`, or `{"seq": N, "hash": "<hex>"}`.
    public init(json data: Data) throws {
        if let head = try? JSONDecoder().decode(SignedAuditHead.self, from: data) {
            self.init(head)
            return
        }
        struct Bare: Decodable { var seq: Int64; var hash: String }
        let bare = try JSONDecoder().decode(Bare.self, from: data)
        guard let witness = AuditWitness(seq: bare.seq, hash: bare.hash) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "hash must be 16 to 64 hex digits"))
        }
        self = witness
    }

    func matches(_ hash: Data) -> Bool { hash.starts(with: hashPrefix) }
}

extension WallTime {
    /// UTC, milliseconds: how audit findings name a time.
    var iso8601: String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
