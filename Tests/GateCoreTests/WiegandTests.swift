import GateCore
import Testing

/// Recorded edge sequences: each character is one falling edge, `0` on D0 and `1` on D1, spaced
/// `interval` apart with the jitter a real reader shows; frames are separated by silence.
private func replay(_ frames: [String], interval: Duration = .microseconds(2_000), gap: Duration = .milliseconds(60),
                    decoder: inout WiegandDecoder<T>) -> [WiegandMessage] {
    var messages: [WiegandMessage] = []
    var now = T.at(1)
    for frame in frames {
        for (index, bit) in frame.enumerated() {
            let jitter = Duration.microseconds(Int64((index * 37) % 200))
            if let message = decoder.pulse(bit == "1" ? .d1 : .d0, at: now.advanced(by: jitter)) { messages.append(message) }
            now = now.advanced(by: interval)
        }
        now = now.advanced(by: gap)
        if let message = decoder.tick(at: now) { messages.append(message) }
    }
    return messages
}

@Suite struct WiegandTests {
    // Facility 18, card 12345 (H10301 26-bit).
    static let h10301 = "00001001000110000001110011"
    // Facility 0x1234, card 0xABCD (34-bit P+16+16+P).
    static let bits34 = "1000100100011010010101011110011011"
    // Facility 4660, card 500000 (H10304 37-bit).
    static let h10304 = "1000100100011010011110100001001000001"

    var decoder = WiegandDecoder<T>()

    @Test mutating func validCardFramesDecodeToFacilityAndNumber() {
        let messages = replay([Self.h10301, Self.bits34, Self.h10304], decoder: &decoder)
        #expect(messages == [
            .card(WiegandCard(facility: 18, number: 12345)),
            .card(WiegandCard(facility: 0x1234, number: 0xABCD)),
            .card(WiegandCard(facility: 4660, number: 500_000)),
        ])
        #expect(decoder.statistics.cards == 3 && decoder.statistics.rejectedTotal == 0)
    }

    @Test func cardNumbersMapToTenHexDigits() {
        #expect(WiegandCard(facility: 18, number: 12345).uidHex == "0012003039")
        #expect(WiegandCard(facility: 0x1234, number: 0xABCD).uidHex == "123400ABCD")
        #expect(WiegandCard(facility: 4660, number: 500_000).uidHex == "123407A120")
    }

    @Test mutating func aFlippedBitIsRejectedForBadParityInEveryFormat() {
        for frame in [Self.h10301, Self.bits34, Self.h10304] {
            for position in [0, 5, frame.count / 2, frame.count - 2, frame.count - 1] {
                var bits = Array(frame)
                bits[position] = bits[position] == "1" ? "0" : "1"
                var fresh = WiegandDecoder<T>()
                let messages = replay([String(bits)], decoder: &fresh)
                #expect(messages == [.rejected(.badParity)], "bit \(position) of a \(frame.count)-bit frame flipped")
            }
        }
    }

    @Test mutating func truncatedFramesNeverYieldANumber() {
        let messages = replay([String(Self.h10301.dropLast()), String(Self.bits34.dropLast(3)),
                               String(Self.h10304.dropFirst()), "01"], decoder: &decoder)
        #expect(messages == [.rejected(.unknownLength), .rejected(.unknownLength), .rejected(.unknownLength),
                             .rejected(.truncated)])
        #expect(decoder.statistics.cards == 0 && decoder.statistics.rejectedTotal == 4)
    }

    @Test mutating func overlongFramesAreRejected() {
        let messages = replay([Self.h10304 + "0", Self.h10301 + Self.h10301, String(repeating: "1", count: 500)],
                              decoder: &decoder)
        #expect(messages == [.rejected(.overlong), .rejected(.overlong), .rejected(.overlong)])
        #expect(decoder.statistics.rejected[.overlong] == 3)
    }

    @Test mutating func twoFramesWithoutATickAreSplitByTheNextPulse() {
        // The tick was missed: the first pulse of the second frame completes the first.
        var now = T.at(0)
        var messages: [WiegandMessage] = []
        for frame in [Self.h10301, Self.h10301] {
            for bit in frame {
                if let message = decoder.pulse(bit == "1" ? .d1 : .d0, at: now) { messages.append(message) }
                now = now.advanced(by: .milliseconds(2))
            }
            now = now.advanced(by: .milliseconds(40))
        }
        if let message = decoder.tick(at: now) { messages.append(message) }
        #expect(messages == Array(repeating: .card(WiegandCard(facility: 18, number: 12345)), count: 2))
    }

    @Test mutating func bitsCloserThanTheMinimumIntervalAreAGlitch() {
        let messages = replay([Self.h10301], interval: .microseconds(50), decoder: &decoder)
        #expect(messages == [.rejected(.glitch)])
    }

    @Test mutating func aFrameEndsOnlyAfterTheGap() {
        var fresh = WiegandDecoder<T>(timing: WiegandTiming(frameGap: .milliseconds(25)))
        var now = T.at(0)
        for bit in Self.h10301 {
            _ = fresh.pulse(bit == "1" ? .d1 : .d0, at: now)
            now = now.advanced(by: .milliseconds(1))
        }
        let last = now.advanced(by: .milliseconds(-1))
        #expect(fresh.tick(at: last.advanced(by: .milliseconds(24))) == nil)
        #expect(fresh.nextDeadline == last.advanced(by: .milliseconds(25)))
        #expect(fresh.tick(at: last.advanced(by: .milliseconds(25))) == .card(WiegandCard(facility: 18, number: 12345)))
        #expect(fresh.nextDeadline == nil)
    }

    @Test mutating func fourBitKeypadSendsOneFramePerKey() {
        // 1 2 3 4 # then * and an undefined code 14.
        let messages = replay(["0001", "0010", "0011", "0100", "1011", "1010", "1110"], decoder: &decoder)
        #expect(messages == [.key(.digit(1)), .key(.digit(2)), .key(.digit(3)), .key(.digit(4)), .key(.submit),
                             .key(.clear), .rejected(.unknownKey)])
    }

    @Test mutating func eightBitKeypadChecksTheComplementNibble() {
        // 5 (1010 0101), # (0100 1011), 0 (1111 0000); then 5 with a flipped bit, truncated and over-long.
        let messages = replay(["10100101", "01001011", "11110000", "10110101", "1010010", "101001010"], decoder: &decoder)
        #expect(messages == [.key(.digit(5)), .key(.submit), .key(.digit(0)), .rejected(.badParity),
                             .rejected(.unknownLength), .rejected(.unknownLength)])
        #expect(decoder.statistics.keys == 3 && decoder.statistics.rejectedTotal == 3)
    }

    @Test mutating func disabledFormatsAreUnknownLengths() {
        var cardsOnly = WiegandDecoder<T>(formats: [.h10301])
        let messages = replay(["0001", Self.bits34, Self.h10301], decoder: &cardsOnly)
        #expect(messages == [.rejected(.truncated), .rejected(.overlong), .card(WiegandCard(facility: 18, number: 12345))])
    }
}

@Suite struct WedgeEntryTests {
    var entry = WedgeEntry<T>(rules: WedgeRules())

    mutating func type(_ text: String, every step: Double = 0.02, from start: Double = 0) -> [WedgeAction] {
        text.enumerated().map { index, character in
            let key: WedgeKey = switch character {
            case "\n": .enter
            default: character.hexDigitValue.map { .hexDigit(UInt8($0)) } ?? .other
            }
            return entry.key(key, at: .at(start + Double(index) * step))
        }
    }

    @Test mutating func decimalNumbersBecomeBigEndianHexOfAtLeastFourBytes() {
        #expect(type("3735928559\n").last == .card(hex: "DEADBEEF"))
        #expect(type("0016909060\n").last == .card(hex: "01020304"))
        #expect(type("1\n").last == .card(hex: "00000001"))
        #expect(type("1108152157446\n").last == .card(hex: "0102030405" + "06"))
    }

    @Test mutating func littleEndianReversesTheBytes() {
        entry.rules.byteOrder = .littleEndian
        #expect(type("3735928559\n").last == .card(hex: "EFBEADDE"))
    }

    @Test mutating func hexLettersMakeAnEntryHex() {
        #expect(type("04a1b2c3d4e5f6\n").last == .card(hex: "04A1B2C3D4E5F6"))
        entry.rules.format = .hex
        #expect(type("12345678\n").last == .card(hex: "12345678"))
        entry.rules.format = .decimal
        #expect(type("04A1B2C3\n").last == .rejected(.letterInDecimal))
    }

    @Test mutating func outOfRangeAndSpoiledEntriesAreRefused() {
        #expect(type("04A1B2\n").last == .rejected(.outOfRange))
        #expect(type("04A1B2C3D4E5F60708090A0B\n").last == .rejected(.outOfRange))
        #expect(type("99999999999999999999999\n").last == .rejected(.outOfRange))
        #expect(type("1234x5678\n").last == .rejected(.notANumber))
        #expect(type("\n").last == WedgeAction.none)
    }

    @Test mutating func aPauseLongerThanTheInterKeyTimeoutDiscardsTheStart() {
        _ = type("9999", from: 0)
        #expect(type("3735928559\n", from: 2).last == .card(hex: "DEADBEEF"))
    }
}

@Suite struct CardDebouncerTests {
    @Test func theSameCardIsReportedOnceWhileItLiesAndAgainAfterTheHoldoff() {
        var debouncer = CardDebouncer<T>(holdoff: .seconds(2))
        var reads: [Bool] = []
        reads.append(debouncer.present("04A1B2C3", at: .at(0)))
        reads.append(debouncer.present("04A1B2C3", at: .at(5)))   // still on the reader
        debouncer.removed()
        reads.append(debouncer.present("04A1B2C3", at: .at(7)))   // lifted and presented again
        #expect(reads == [true, false, true])

        var flicker = CardDebouncer<T>(holdoff: .seconds(2))
        reads = [flicker.present("04A1B2C3", at: .at(0))]
        flicker.removed()
        reads.append(flicker.present("04A1B2C3", at: .at(0.5)))   // flicker within the holdoff
        flicker.removed()
        reads.append(flicker.present("04A1B2C3", at: .at(2.5)))   // after the holdoff
        reads.append(flicker.present("04FFFFFF", at: .at(2.6)))   // another card at once
        #expect(reads == [true, false, true, true])
    }
}
