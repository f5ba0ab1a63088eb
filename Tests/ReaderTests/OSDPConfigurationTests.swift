import Foundation
import GateConfiguration
import GateCore
import GateServices
import GateStore
import Testing

@Suite struct OSDPConfigurationTests {
    func parse(_ json: String) throws -> DaemonConfiguration { try DaemonConfiguration(json: Data(json.utf8)) }

    func problem(_ json: String) -> String {
        do {
            _ = try parse(json)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func osdpReadersShareALineByAddressAndAreSecureUnlessSaidOtherwise() throws {
        let configuration = try parse(#"""
            {"readers": [
              {"door": "main", "kind": "osdp", "device": "/dev/ttyUSB0", "address": 1},
              {"door": "main", "kind": "osdp", "device": "/dev/ttyUSB0", "address": 2, "insecure": true, "baud": 115200,
               "pollIntervalMilliseconds": 50, "offlineTimeoutMilliseconds": 5000}
            ]}
            """#)
        let first = configuration.readers[0].osdp, second = configuration.readers[1].osdp
        #expect(first.address == 1 && !first.insecure && first.baud == 9600)
        #expect(first.pollInterval == .milliseconds(100) && first.offlineTimeout == .seconds(2))
        #expect(second.address == 2 && second.insecure && second.baud == 115_200)
        #expect(second.pollInterval == .milliseconds(50) && second.offlineTimeout == .seconds(5))
        let warnings = ReaderConfiguration.securityWarnings(configuration.readers)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("/dev/ttyUSB0 address 2") == true)
        #expect(warnings.first?.contains("WITHOUT the secure channel") == true)
    }

    @Test func osdpMistakesAreRefusedNamingTheKey() {
        #expect(problem(#"{"readers": [{"door": "main", "kind": "osdp", "device": "/dev/ttyUSB0"}, {"door": "main", "kind": "osdp", "device": "/dev/ttyUSB0"}]}"#)
            == "configuration key readers[1].device: /dev/ttyUSB0#0 is already used by readers[0]")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "osdp"}]}"#)
            == "configuration key readers[0].device: a osdp reader needs its serial line, e.g. /dev/ttyUSB0")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "osdp", "device": "/dev/x", "address": 127}]}"#)
            == "configuration key readers[0].address: 127 is out of range 0–126")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "osdp", "device": "/dev/x", "baud": 14400}]}"#)
            == "configuration key readers[0].baud: must be one of 9600, 19200, 38400, 57600, 115200")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "osdp", "device": "/dev/x", "pollIntervalMilliseconds": 500}]}"#)
            == "configuration key readers[0].pollIntervalMilliseconds: 500 is out of range 20–200")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "pcsc", "insecure": true}]}"#)
            == "configuration key readers[0].insecure: applies to osdp readers only, not pcsc")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "osdp", "device": "/dev/x", "format": "hex"}]}"#)
            == "configuration key readers[0].format: applies to wedge readers only, not osdp")
        #expect(problem(#"{"doors": [{"name": "main", "methods": ["face", "card"]}], "readers": [{"door": "main", "kind": "osdp", "device": "/dev/x"}]}"#)
            == "accepted")
    }

    /// OSDP card data: Wiegand-format frames decode like a Wiegand reader's, parity checked; whole bytes
    /// are a UID; anything else is refused, never guessed. Keypad bytes map to keys.
    @Test func osdpCardDataAndKeys() throws {
        // H10301 facility 18, card 12345, MSB first, padded.
        #expect(try OSDPCardData.uid(bitCount: 26, format: 1, bytes: [0x09, 0x18, 0x1C, 0xC0]).get().hex == "0012003039")
        // One bit flipped: the parity catches it.
        guard case .failure = OSDPCardData.uid(bitCount: 26, format: 1, bytes: [0x09, 0x18, 0x1C, 0x80]) else {
            Issue.record("a bad-parity frame became a card")
            return
        }
        #expect(try OSDPCardData.uid(bitCount: 56, format: 0, bytes: [0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6]).get().hex == "04A1B2C3D4E5F6")
        #expect((try? OSDPCardData.uid(bitCount: 20, format: 0, bytes: [1, 2, 3]).get()) == nil)
        #expect((try? OSDPCardData.uid(bitCount: 24, format: 0, bytes: [1, 2, 3]).get()) == nil)
        #expect(OSDPCardData.key(UInt8(ascii: "7")) == .digit(7))
        #expect(OSDPCardData.key(0x0D) == .submit && OSDPCardData.key(UInt8(ascii: "#")) == .submit)
        #expect(OSDPCardData.key(0x7F) == .clear && OSDPCardData.key(UInt8(ascii: "*")) == .clear)
        #expect(OSDPCardData.key(UInt8(ascii: "A")) == nil)
    }
}

@Suite struct WiegandConfigurationTests {
    func problem(_ json: String) -> String {
        do {
            _ = try DaemonConfiguration(json: Data(json.utf8))
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func wiegandReadersNeedAChipAndTwoLinesAndTakeTolerances() throws {
        let configuration = try DaemonConfiguration(json: Data(#"""
            {"readers": [{"door": "main", "kind": "wiegand", "chip": "gpiochip0", "d0": 17, "d1": 27,
                          "frameGapMilliseconds": 40, "minimumBitIntervalMicroseconds": 60}]}
            """#.utf8))
        let wiegand = configuration.readers[0].wiegand
        #expect(wiegand.chip == "gpiochip0" && wiegand.d0 == 17 && wiegand.d1 == 27)
        #expect(wiegand.timing == WiegandTiming(frameGap: .milliseconds(40), minimumBitInterval: .microseconds(60)))
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wiegand", "d0": 1, "d1": 2}]}"#)
            == #"configuration key readers[0].chip: a wiegand reader needs its GPIO chip, e.g. "gpiochip0""#)
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wiegand", "chip": "gpiochip0", "d0": 1}]}"#)
            == "configuration key readers[0].d1: a wiegand reader needs the line offsets of D0 and D1")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wiegand", "chip": "gpiochip0", "d0": 1, "d1": 1}]}"#)
            == "configuration key readers[0].d1: D0 and D1 must be different lines")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wiegand", "chip": "c", "d0": 1, "d1": 2, "frameGapMilliseconds": 1}]}"#)
            == "configuration key readers[0].frameGapMilliseconds: 1 is out of range 5–100")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wiegand", "chip": "c", "d0": 1, "d1": 2, "device": "/dev/x"}]}"#)
            == "configuration key readers[0].device: applies to keypad, wedge and osdp readers only, not wiegand")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "pcsc", "d0": 1}]}"#)
            == "configuration key readers[0].d0: applies to wiegand readers only, not pcsc")
    }
}
