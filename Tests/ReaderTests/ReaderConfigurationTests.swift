import Foundation
import GateCore
import GateConfiguration
import Testing

@Suite struct ReaderConfigurationTests {
    func parse(_ json: String) throws -> DaemonConfiguration { try DaemonConfiguration(json: Data(json.utf8)) }

    func problem(_ json: String) -> String {
        do {
            _ = try parse(json)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func readersAreReadWithTheirDefaults() throws {
        let configuration = try parse(#"""
            {"readers": [
              {"door": "main", "kind": "keypad", "device": "/dev/input/by-id/usb-pad-event-kbd"},
              {"door": "main", "kind": "wedge", "device": "/dev/input/event7", "format": "hex", "interKeyTimeoutMilliseconds": 200},
              {"door": "main", "kind": "pcsc", "reader": "ACR122", "debounceMilliseconds": 1500},
              {"door": "main", "kind": "pcsc"}
            ]}
            """#)
        #expect(configuration.readers.map(\.kind) == [.keypad, .wedge, .pcsc, .pcsc])
        #expect(configuration.readers[1].wedge == WedgeRules(format: .hex, byteOrder: .bigEndian, interKeyTimeout: .milliseconds(200)))
        #expect(configuration.readers[0].wedge.interKeyTimeout == .milliseconds(500))
        #expect(configuration.readers[2].reader == "ACR122" && configuration.readers[2].debounce == .milliseconds(1500))
        #expect(configuration.readers[3].reader == nil && configuration.readers[3].debounce == .seconds(2))
        #expect(try parse("{}").readers.isEmpty)
    }

    @Test func mistakesAreRefusedNamingTheKey() {
        #expect(problem(#"{"readers": [{"door": "main", "kind": "pcsc", "readr": "x"}]}"#)
            == "configuration key readers[0].readr: unknown key")
        #expect(problem(#"{"readers": [{"door": "lobby", "kind": "pcsc"}]}"#)
            == #"configuration key readers[0].door: "lobby" is not a configured door (doors: "main")"#)
        #expect(problem(#"{"readers": [{"door": "main", "kind": "nfc"}]}"#)
            == #"configuration key readers[0].kind: "nfc" is not one of: keypad, wedge, pcsc, osdp, wiegand"#)
        #expect(problem(#"{"readers": [{"door": "main"}]}"#).hasPrefix("configuration key readers[0].kind: every reader needs a kind"))
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wedge"}]}"#).hasPrefix("configuration key readers[0].device: a wedge reader needs"))
        #expect(problem(#"{"readers": [{"door": "main", "kind": "pcsc", "device": "/dev/input/event1"}]}"#)
            == "configuration key readers[0].device: applies to keypad, wedge and osdp readers only, not pcsc")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "keypad", "device": "/dev/x", "interKeyTimeoutMilliseconds": 100}]}"#)
            == "configuration key readers[0].interKeyTimeoutMilliseconds: applies to wedge readers only, not keypad")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wedge", "device": "/dev/x", "interKeyTimeoutMilliseconds": 10}]}"#)
            == "configuration key readers[0].interKeyTimeoutMilliseconds: 10 is out of range 50–5000")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "pcsc", "debounceMilliseconds": 60001}]}"#)
            == "configuration key readers[0].debounceMilliseconds: 60001 is out of range 0–60000")
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wedge", "device": "event3"}]}"#)
            == #"configuration key readers[0].device: "event3" is not an absolute path"#)
        #expect(problem(#"{"readers": [{"door": "main", "kind": "wedge", "device": "/dev/x"}, {"door": "main", "kind": "keypad", "device": "/dev/x"}]}"#)
            == "configuration key readers[1].device: /dev/x is already used by readers[0]")
        #expect(problem(#"{"doors": [{"name": "main", "methods": ["card"]}], "readers": [{"door": "main", "kind": "keypad", "device": "/dev/x"}]}"#)
            == #"configuration key readers[0].kind: door "main" does not accept pin, so a keypad reader there could only deny"#)
        #expect(problem(#"{"readers": {"door": "main"}}"#) == "configuration key readers: expected an array of objects")
    }
}
