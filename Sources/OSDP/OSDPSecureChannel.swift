/// The OSDP secure channel (SIA OSDP 2.2 Annex D): AES-128 session keys from the reader's SCBK and the
/// CP's random number, the CHLNG → CCRYPT → SCRYPT → RMAC_I handshake, chained 16-byte MACs (4 bytes on
/// the wire) and AES-CBC encrypted data blocks.
///
/// ```
/// S-ENC  = AES(SCBK, 01 82 RND.A[0..5] 00…)    S-MAC1 = AES(SCBK, 01 01 RND.A[0..5] 00…)
/// S-MAC2 = AES(SCBK, 01 02 RND.A[0..5] 00…)
/// client cryptogram (PD, in CCRYPT)  = AES(S-ENC, RND.A ‖ RND.B)
/// server cryptogram (CP, in SCRYPT)  = AES(S-ENC, RND.B ‖ RND.A)
/// RMAC_I = AES(S-MAC2, AES(S-MAC1, server cryptogram))
/// MAC(message, IV) = AES-CBC over the message padded with 80 00…: every block but the last with S-MAC1,
///                    the last with S-MAC2; IV = the last reply's MAC for a command, the command's for a reply
/// data blocks: AES-CBC with S-ENC, IV = ~(last reply MAC) for commands, ~(command MAC) for replies, 80 00… padding
/// ```
public struct OSDPSecureSession: Sendable {
    /// SCBK-D, the well-known install-mode key (`30 31 … 3F`): used only while pairing.
    public static let defaultKey: [UInt8] = Array(0x30...0x3F)

    let encryptionKey: [UInt8]
    let macKey1: [UInt8]
    let macKey2: [UInt8]
    let cpRandom: [UInt8]
    /// The MAC of the last command (IV of the next reply's MAC).
    private(set) var commandMAC: [UInt8] = Array(repeating: 0, count: 16)
    /// The MAC of the last reply (IV of the next command's MAC); RMAC_I at first.
    private(set) var replyMAC: [UInt8] = Array(repeating: 0, count: 16)
    /// Whether RMAC_I has been accepted.
    public private(set) var isEstablished = false

    /// - Parameters: scbk: 16 bytes; cpRandom: RND.A, 8 bytes.
    public init(scbk: [UInt8], cpRandom: [UInt8]) {
        precondition(scbk.count == 16 && cpRandom.count == 8)
        func derive(_ second: UInt8) -> [UInt8] {
            Self.aes(scbk, [0x01, second] + cpRandom.prefix(6) + Array(repeating: 0, count: 8))
        }
        encryptionKey = derive(0x82)
        macKey1 = derive(0x01)
        macKey2 = derive(0x02)
        self.cpRandom = cpRandom
    }

    /// Whether the PD's cryptogram from CCRYPT proves it holds the same SCBK (constant time).
    public func acceptsClientCryptogram(_ cryptogram: [UInt8], pdRandom: [UInt8]) -> Bool {
        guard cryptogram.count == 16, pdRandom.count == 8 else { return false }
        let expected = Self.aes(encryptionKey, cpRandom + pdRandom)
        return zip(expected, cryptogram).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The CP's cryptogram for SCRYPT.
    public func serverCryptogram(pdRandom: [UInt8]) -> [UInt8] {
        Self.aes(encryptionKey, pdRandom + cpRandom)
    }

    /// Checks RMAC_I against the expected value and starts MAC chaining from it.
    public mutating func establish(rmacI: [UInt8], pdRandom: [UInt8]) -> Bool {
        let expected = Self.aes(macKey2, Self.aes(macKey1, serverCryptogram(pdRandom: pdRandom)))
        guard rmacI.count == 16, zip(expected, rmacI).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return false }
        replyMAC = expected
        isEstablished = true
        return true
    }

    /// Secures a command frame: encrypts its data (SCS_17) or not (SCS_15, no data), appends the MAC.
    public mutating func seal(_ frame: OSDPFrame) -> OSDPFrame {
        var frame = frame
        if frame.data.isEmpty {
            frame.securityBlock = [0x02, 0x15]
        } else {
            frame.securityBlock = [0x02, 0x17]
            frame.data = Self.cbcEncrypt(encryptionKey, iv: replyMAC.map { ~$0 }, Self.pad(frame.data))
        }
        let full = Self.mac(frame.authenticatedBytes(includingMAC: true), iv: replyMAC, key1: macKey1, key2: macKey2)
        commandMAC = full
        frame.mac = Array(full.prefix(4))
        return frame
    }

    /// Checks a reply's MAC (advancing the chain) and decrypts its data. - Returns: `nil` if it is not
    /// authentic: wrong MAC, no MAC, or an encrypted block that does not decrypt to padded data.
    public mutating func open(_ frame: OSDPFrame) -> OSDPFrame? {
        guard let type = frame.securityType, type == 0x16 || type == 0x18, let mac = frame.mac else { return nil }
        let full = Self.mac(frame.authenticatedBytes(includingMAC: true), iv: commandMAC, key1: macKey1, key2: macKey2)
        guard zip(full.prefix(4), mac).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        replyMAC = full
        var frame = frame
        if type == 0x18 {
            guard !frame.data.isEmpty, frame.data.count % 16 == 0 else { return nil }
            let plain = Self.cbcDecrypt(encryptionKey, iv: commandMAC.map { ~$0 }, frame.data)
            guard let end = plain.lastIndex(where: { $0 != 0 }), plain[end] == 0x80 else { return nil }
            frame.data = Array(plain[..<end])
        }
        return frame
    }

    // MARK: - AES (OSDPAES.swift)

    static func pad(_ data: [UInt8]) -> [UInt8] {
        var padded = data + [0x80]
        while padded.count % 16 != 0 { padded.append(0) }
        return padded
    }

    static func aes(_ key: [UInt8], _ block: [UInt8]) -> [UInt8] { OSDPAES.encryptBlock(key, block) }

    static func cbcEncrypt(_ key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8] { OSDPAES.cbcEncrypt(key, iv: iv, data) }

    static func cbcDecrypt(_ key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8] { OSDPAES.cbcDecrypt(key, iv: iv, data) }

    /// The 16-byte MAC: pad with 80 00… unless already whole blocks, CBC with key1 over all blocks but the
    /// last, the last with key2, chained.
    static func mac(_ message: [UInt8], iv: [UInt8], key1: [UInt8], key2: [UInt8]) -> [UInt8] {
        var padded = message
        if padded.count % 16 != 0 { padded = pad(message) }
        var chain = iv
        if padded.count > 16 {
            let head = cbcEncrypt(key1, iv: iv, Array(padded[..<(padded.count - 16)]))
            chain = Array(head.suffix(16))
        }
        return cbcEncrypt(key2, iv: chain, Array(padded.suffix(16)))
    }
}
