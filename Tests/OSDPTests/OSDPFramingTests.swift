import Testing
@testable import OSDP

@Suite struct OSDPFramingTests {
    /// SIA OSDP 2.2 Annex E, CRC examples 1 and 2 (the check bytes as sent, LSB first).
    @Test func crcMatchesTheSpecificationExamples() {
        let crc1 = OSDPCheck.crc16([0x53, 0x7F, 0x0D, 0x00, 0x04, 0x6E, 0x00, 0x80, 0x25, 0x00, 0x00])
        #expect([UInt8(crc1 & 0xFF), UInt8(crc1 >> 8)] == [0x6E, 0x38])
        let crc2 = OSDPCheck.crc16([0x53, 0x00, 0x09, 0x00, 0x04, 0x61, 0x00])
        #expect([UInt8(crc2 & 0xFF), UInt8(crc2 >> 8)] == [0xC0, 0x66])
        #expect(OSDPCheck.crc16(Array("123456789".utf8)) == 0xE5CC)  // CRC-16/AUG-CCITT check value
    }

    /// Annex E, checksum examples 1 and 2.
    @Test func checksumMatchesTheSpecificationExamples() {
        #expect(OSDPCheck.checksum([0x53, 0x7F, 0x0C, 0x00, 0x00, 0x6E, 0x00, 0x80, 0x25, 0x00, 0x00]) == 0x0F)
        #expect(OSDPCheck.checksum([0x53, 0x00, 0x08, 0x00, 0x00, 0x61, 0x00]) == 0x44)
    }

    /// An osdp_ID to address 0, sequence 1, CRC: the spec's example frame, byte for byte.
    @Test func anIDCommandEncodesAsTheSpecificationShows() {
        let frame = OSDPFrame(address: 0, isReply: false, sequence: 1, code: 0x61, data: [0x00])
        #expect(frame.encoded(mark: false) == [0x53, 0x00, 0x09, 0x00, 0x05, 0x61, 0x00] + crcBytes([0x53, 0x00, 0x09, 0x00, 0x05, 0x61, 0x00]))
        #expect(frame.encoded().first == 0xFF)
        let checksummed = OSDPFrame(address: 0, isReply: false, sequence: 0, usesCRC: false, code: 0x61, data: [0x00])
        #expect(checksummed.encoded(mark: false) == [0x53, 0x00, 0x08, 0x00, 0x00, 0x61, 0x00, 0x44])
    }

    @Test func framesRoundTripThroughTheReaderWithOrWithoutMarkAndSecurityBlock() throws {
        let frames = [
            OSDPFrame(address: 5, isReply: true, sequence: 2, code: 0x45, data: Array(0..<12)),
            OSDPFrame(address: 0x7F, isReply: false, sequence: 0, usesCRC: false, code: 0x60),
            OSDPFrame(address: 1, isReply: false, sequence: 3, securityBlock: [0x03, 0x11, 0x01], code: 0x76, data: Array(1...8)),
            OSDPFrame(address: 1, isReply: true, sequence: 1, securityBlock: [0x02, 0x18], code: 0x50, data: Array(repeating: 7, count: 16),
                      mac: [1, 2, 3, 4]),
        ]
        var reader = OSDPFrameReader()
        for (index, frame) in frames.enumerated() { reader.append(frame.encoded(mark: index % 2 == 0)) }
        for frame in frames {
            let next = try reader.next()?.get()
            #expect(next == frame)
        }
        let end = reader.next()
        #expect(end == nil)
        #expect(reader.discarded == 0)
    }

    @Test func garbageTruncatedAndCRCBrokenFramesAreSkippedAndTheNextGoodFrameIsFound() throws {
        let good = OSDPFrame(address: 1, isReply: true, sequence: 1, code: 0x40)
        var broken = good.encoded()
        broken[broken.count - 1] ^= 0x55
        var reader = OSDPFrameReader()
        reader.append([0x00, 0x13, 0x53, 0x53, 0xFF, 0xFF] + broken + Array(good.encoded().prefix(4)))
        var errors = 0
        var found: [OSDPFrame] = []
        while let result = reader.next() {
            switch result {
            case .success(let frame): found.append(frame)
            case .failure: errors += 1
            }
        }
        #expect(found.isEmpty)
        #expect(errors > 0)
        reader.reset()
        reader.append(good.encoded())
        let next = try reader.next()?.get()
        #expect(next == good)
    }

    /// Every prefix and every single-bit flip of a valid frame: never a crash, never a wrong frame accepted
    /// as the original (a flip is caught by the CRC).
    @Test func everyPrefixAndBitFlipOfAFrameIsHandled() {
        let good = OSDPFrame(address: 1, isReply: true, sequence: 2, securityBlock: [0x02, 0x16], code: 0x53,
                             data: [0, 2, 0x31, 0x32], mac: [9, 8, 7, 6]).encoded()
        for length in 0..<good.count {
            var reader = OSDPFrameReader()
            reader.append(good.prefix(length))
            while let result = reader.next() { if case .success = result { Issue.record("a prefix of \(length) bytes made a frame") } }
        }
        for bit in 8..<(good.count * 8) {
            var flipped = good
            flipped[bit / 8] ^= 1 << (bit % 8)
            var reader = OSDPFrameReader()
            reader.append(flipped)
            while let result = reader.next() {
                if case .success(let frame) = result, frame.encoded() == good { Issue.record("bit \(bit) flipped went unnoticed") }
            }
        }
    }

    @Test func repliesDecodeAndMalformedOnesAreNamedNotGuessed() {
        #expect(OSDPReply(code: 0x50, data: [0, 1, 26, 0, 1, 2, 3, 0x40]) == .card(reader: 0, format: 1, bitCount: 26, bytes: [1, 2, 3, 0x40]))
        #expect(OSDPReply(code: 0x50, data: [0, 1, 26, 0, 1, 2]) == .malformed(code: 0x50))
        #expect(OSDPReply(code: 0x53, data: [0, 3, 0x31, 0x32, 0x0D]) == .keypad(reader: 0, keys: [0x31, 0x32, 0x0D]))
        #expect(OSDPReply(code: 0x53, data: [0, 4, 0x31]) == .malformed(code: 0x53))
        #expect(OSDPReply(code: 0x46, data: [9, 1, 1, 4, 1, 1]) == .capabilities([
            OSDPCapability(function: 9, compliance: 1, items: 1), OSDPCapability(function: 4, compliance: 1, items: 1),
        ]))
        #expect(OSDPReply(code: 0x46, data: [9, 1]) == .malformed(code: 0x46))
        #expect(OSDPReply(code: 0x48, data: [1, 0]) == .localStatus(tamper: true, power: false))
        #expect(OSDPReply(code: 0x76, data: Array(repeating: 0, count: 31)) == .malformed(code: 0x76))
        #expect(OSDPReply(code: 0x99, data: []) == .unknown(code: 0x99))
    }

    private func crcBytes(_ bytes: [UInt8]) -> [UInt8] {
        let crc = OSDPCheck.crc16(bytes)
        return [UInt8(crc & 0xFF), UInt8(crc >> 8)]
    }
}
