import Testing
@testable import OSDP

@Suite struct OSDPSecureChannelTests {
    // SIA OSDP 2.2 Annex E: SCBK-D, RND.A = B0…B7, RND.B = A0…A7.
    static let cpRandom: [UInt8] = [0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7]
    static let pdRandom: [UInt8] = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7]

    @Test func sessionKeysCryptogramsAndRMACIMatchTheSpecificationExample() {
        var session = OSDPSecureSession(scbk: OSDPSecureSession.defaultKey, cpRandom: Self.cpRandom)
        #expect(session.macKey1 == [0x5E, 0x86, 0xC6, 0x76, 0x60, 0x3B, 0xDE, 0xE2, 0xD8, 0xBE, 0xAF, 0xE1, 0x78, 0x63, 0x73, 0x32])
        #expect(session.macKey2 == [0x6F, 0xDA, 0x86, 0xE8, 0x57, 0x77, 0x7E, 0x81, 0x13, 0x20, 0x35, 0x75, 0x82, 0x39, 0x17, 0x2E])
        #expect(session.encryptionKey == [0xBF, 0x8D, 0xC2, 0xA8, 0x32, 0x9A, 0xCB, 0x8C, 0x67, 0xC6, 0xD0, 0xCD, 0x9A, 0x45, 0x16, 0x82])
        let client: [UInt8] = [0xFD, 0xE5, 0xD2, 0xF4, 0x28, 0xEC, 0x16, 0x31, 0x24, 0x71, 0xEA, 0x3C, 0x02, 0xBD, 0x77, 0x96]
        #expect(session.acceptsClientCryptogram(client, pdRandom: Self.pdRandom))
        var tampered = client
        tampered[15] ^= 1
        #expect(!session.acceptsClientCryptogram(tampered, pdRandom: Self.pdRandom))
        #expect(session.serverCryptogram(pdRandom: Self.pdRandom)
                == [0x26, 0xD3, 0x35, 0x6E, 0x07, 0x76, 0x2D, 0x26, 0x28, 0x01, 0xFC, 0x8E, 0x66, 0x65, 0xA8, 0x91])
        let rmacI: [UInt8] = [0xB2, 0xA3, 0x00, 0x57, 0xEB, 0x98, 0xBA, 0x22, 0x29, 0xEC, 0x1F, 0x87, 0x56, 0x62, 0xB5, 0x24]
        var wrong = rmacI
        wrong[0] ^= 1
        let refused = session.establish(rmacI: wrong, pdRandom: Self.pdRandom)
        #expect(!refused)
        let accepted = session.establish(rmacI: rmacI, pdRandom: Self.pdRandom)
        #expect(accepted)
        #expect(session.isEstablished)
    }

    @Test func anotherKeyGivesAnotherClientCryptogram() {
        let mine = OSDPSecureSession(scbk: Array(repeating: 0x11, count: 16), cpRandom: Self.cpRandom)
        let theirs = OSDPSecureSession(scbk: OSDPSecureSession.defaultKey, cpRandom: Self.cpRandom)
        let theirCryptogram = OSDPSecureSession.aes(theirs.encryptionKey, Self.cpRandom + Self.pdRandom)
        #expect(!mine.acceptsClientCryptogram(theirCryptogram, pdRandom: Self.pdRandom))
    }

    /// A PD side built from the same primitives with the roles swapped: commands sealed by the CP open at
    /// the PD, replies sealed by the PD open at the CP, and the MAC chain catches a replayed reply.
    @Test func macChainingAndDataEncryptionWorkBothWaysAndCatchAReplay() throws {
        var cp = OSDPSecureSession(scbk: OSDPSecureSession.defaultKey, cpRandom: Self.cpRandom)
        let rmacI = OSDPSecureSession.aes(cp.macKey2, OSDPSecureSession.aes(cp.macKey1, cp.serverCryptogram(pdRandom: Self.pdRandom)))
        let established = cp.establish(rmacI: rmacI, pdRandom: Self.pdRandom)
        #expect(established)
        var pd = PDSide(session: cp, replyMAC: rmacI)

        let command = cp.seal(OSDPFrame(address: 1, isReply: false, sequence: 1, code: 0x69, data: Array(0..<14)))
        #expect(command.securityType == 0x17)
        #expect(command.data != Array(0..<14))
        let plain = try pd.open(command)
        #expect(plain == Array(0..<14))

        let card: [UInt8] = [0, 1, 26, 0, 0x12, 0x34, 0x56, 0x40]
        let reply = pd.seal(OSDPFrame(address: 1, isReply: true, sequence: 1, code: 0x50, data: card))
        // Across the wire and back.
        var wire = OSDPFrameReader()
        wire.append(reply.encoded())
        let next = try wire.next()?.get()
        let received = try #require(next)
        let opened = cp.open(received)
        #expect(opened?.data == card)

        _ = cp.seal(OSDPFrame(address: 1, isReply: false, sequence: 2, code: 0x60))
        let replayed = cp.open(received)
        #expect(replayed == nil, "the same reply again must fail: its MAC belongs to the old chain")
    }

    /// The PD's half of the secure channel, for the test above (libosdp is the real peer in scripts/osdp-test).
    struct PDSide {
        var session: OSDPSecureSession
        var replyMAC: [UInt8]
        var commandMAC: [UInt8] = []

        mutating func open(_ frame: OSDPFrame) throws -> [UInt8] {
            let full = OSDPSecureSession.mac(frame.authenticatedBytes(includingMAC: true), iv: replyMAC, key1: session.macKey1, key2: session.macKey2)
            try #require(Array(full.prefix(4)) == frame.mac)
            commandMAC = full
            if frame.data.isEmpty { return [] }
            let plain = OSDPSecureSession.cbcDecrypt(session.encryptionKey, iv: replyMAC.map { ~$0 }, frame.data)
            let end = try #require(plain.lastIndex(where: { $0 != 0 }))
            return Array(plain[..<end])
        }

        mutating func seal(_ frame: OSDPFrame) -> OSDPFrame {
            var frame = frame
            frame.securityBlock = frame.data.isEmpty ? [0x02, 0x16] : [0x02, 0x18]
            if !frame.data.isEmpty {
                frame.data = OSDPSecureSession.cbcEncrypt(session.encryptionKey, iv: commandMAC.map { ~$0 }, OSDPSecureSession.pad(frame.data))
            }
            let full = OSDPSecureSession.mac(frame.authenticatedBytes(includingMAC: true), iv: commandMAC, key1: session.macKey1, key2: session.macKey2)
            replyMAC = full
            frame.mac = Array(full.prefix(4))
            return frame
        }
    }
}
