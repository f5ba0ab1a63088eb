import Foundation
import GateCore
import GateConfiguration
import Testing

/// The configuration reader on hostile input (issue 16): huge numbers, duplicate keys, JSON that is not
/// JSON, nesting deep enough to overflow a recursive parser. Every input is refused with a sentence that
/// names the key or the line and column; none crashes.
@Suite struct StrictConfigurationTests {
    func problem(_ json: String) -> String {
        problem(Data(json.utf8))
    }

    func problem(_ data: Data) -> String {
        do {
            _ = try DaemonConfiguration(json: data)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: ["1e20", "-1e19", "9223372036854775808", "1.7976931348623157e308", "-1e300", "18446744073709551616"])
    func numbersBeyondIntAreRefusedByKey(number: String) {
        let message = problem(#"{"doors":[{"name":"main","methods":["card"],"relay":{"pulseSeconds":\#(number)}}]}"#)
        #expect(message.hasPrefix("configuration key doors[0].relay.pulseSeconds: "), "\(message)")
        #expect(message.contains("is out of range 0.1–30"), "\(message)")
    }

    @Test(arguments: ["1e20", "-1e19", "9.3e18", "4.5"])
    func integerKeysRefuseHugeAndFractionalNumbers(number: String) {
        let message = problem(#"{"keypad": {"lockoutFailures": \#(number)}}"#)
        #expect(message.hasPrefix("configuration key keypad.lockoutFailures: "), "\(message)")
    }

    /// `Tests/Fixtures/bad-input` (a copy of the bad-input campaign's files), or `$OPTGATE_BAD_INPUT_DIR`.
    static let badInputDirectory = ProcessInfo.processInfo.environment["OPTGATE_BAD_INPUT_DIR"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bad-input").path

    @Test func theCampaignsConfigurationIsRefused() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("config-1e20-\(UUID().uuidString.prefix(8)).json")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: "\(Self.badInputDirectory)/config-1e20.json"), to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        #expect(problem(try Data(contentsOf: copy)) == "configuration key doors[0].relay.pulseSeconds: 1e+20 is out of range 0.1–30")
    }

    @Test func duplicateKeysAreRefusedByNameInEitherOrder() {
        // Before: the first won, so 3-then-45 passed and 45-then-3 was refused.
        for pair in [("3", "45"), ("45", "3"), ("3", "3")] {
            let message = problem(#"{"doors":[{"name":"main","relay":{"pulseSeconds":\#(pair.0),"pulseSeconds":\#(pair.1)}}]}"#)
            #expect(message.hasPrefix("configuration key doors[0].relay.pulseSeconds: the key appears twice in the same object"),
                    "\(message)")
        }
        #expect(problem(#"{"keypad": {}, "keypad": {}}"#).hasPrefix("configuration key keypad: the key appears twice"))
        #expect(problem(#"{"doors":[{"name":"a"},{"name":"b","name":"c"}]}"#).hasPrefix("configuration key doors[1].name: the key appears twice"))
        #expect(problem("{\"face\": {\"source\": {\"fps\": 1,\n \"fps\": 2}}}").contains("again at line 2, column 2"))
        // The same key in different objects is fine.
        #expect(problem(#"{"doors":[{"name":"a"},{"name":"b"}]}"#) == "accepted")
    }

    @Test func aCaptureZoneWithoutAreaIsRefused() {
        for zone in ["[0, 0, 0, 1]", "[0.2, 0.2, 0.5, 0]", "[0, 0, 0, 0]"] {
            let message = problem(#"{"doors":[{"name":"main","methods":["face","card"]}],"face":{"captureZone":\#(zone)}}"#)
            #expect(message.hasPrefix("configuration key face.captureZone: the width and height must be more than 0"), "\(message)")
        }
        #expect(problem(#"{"doors":[{"name":"main","methods":["face","card"]}],"face":{"captureZone":[0.1,0.1,0.5,0.5]}}"#) == "accepted")
    }

    @Test(arguments: [
        ("{\"doors\": [{\"name\": \"main\",\n  \"relay\": {\"pulseSeconds\": NaN}}]}", "NaN and Infinity are not JSON numbers at line 2, column 29 (in doors[0].relay.pulseSeconds)"),
        ("{\"keypad\": {\"lockoutSeconds\": Infinity}}", "NaN and Infinity are not JSON numbers at line 1, column 31 (in keypad.lockoutSeconds)"),
        ("{\"keypad\": {\"lockoutSeconds\": -Infinity}}", "NaN and Infinity are not JSON numbers at line 1, column 32 (in keypad.lockoutSeconds)"),
        ("{\n\"keypad\": {\"lockoutSeconds\": 1e400}}", "the number 1e400 is too large at line 2, column 30 (in keypad.lockoutSeconds)"),
        ("{\"keypad\": {}} x", "unexpected 'x' after the end of the document at line 1, column 16"),
        ("{\"keypad\": {}}\n}", "unexpected '}' after the end of the document at line 2, column 1"),
        ("{\"keypad\": {},}", "'}' where a quoted key was expected at line 1, column 15"),
        ("{\"doors\": [{\"name\": \"a\"},]}", "unexpected ']' where a value was expected at line 1, column 26 (in doors[1])"),
        ("{\"keypad\" {}}", "'{' where ':' after the key was expected at line 1, column 11 (in keypad)"),
        ("{\"keypad\": {\"minDigits\": 04}}", "'4' where ',' or '}' was expected at line 1, column 27 (in keypad)"),
        ("{\"keypad\": {\"minDigits\": 4", "the file ends inside an object at line 1, column 27 (in keypad)"),
        ("{\"a\": \"tab\there\"}", "a control character (byte 0x09) inside a string at line 1, column 11 (in a)"),
        ("{\"a\": \"\\x\"}", "the escape \\'x' is not JSON at line 1, column 9 (in a)"),
        ("{'a': 1}", "''' where a quoted key was expected at line 1, column 2"),
        ("", "the file ends where a value was expected at line 1, column 1"),
        ("{\"a\": tru}", "unexpected 't' where a value was expected at line 1, column 7 (in a)"),
    ])
    func syntaxErrorsGiveLineAndColumn(json: String, message: String) {
        let found = problem(json)
        #expect(found == "configuration: the file is not valid JSON: \(message)", "\(found)")
    }

    @Test func validJSONStillReadsAsBefore() throws {
        let configuration = try DaemonConfiguration(json: Data(#"""
            {"doors": [{"name": "m\u00e4in \ud83d\udeaa", "methods": ["card", "pin"], "relay": {"pulseSeconds": 2.5E0}}],
             "keypad": {"minDigits": 6, "lockoutSeconds": 1.2e2}, "control": {"socketPath": "/run/x\/y.sock"}}
            """#.utf8))
        #expect(configuration.doors[0].name == "mäin 🚪")
        #expect(configuration.doors[0].timings.pulse == .milliseconds(2500))
        #expect(configuration.pinEntry.minimumDigits == 6)
        #expect(configuration.controlSocketPath == "/run/x/y.sock")
        // A byte order mark, as some editors write, is accepted.
        #expect(problem(Data([0xEF, 0xBB, 0xBF] + Array("{}".utf8))) == "accepted")
        // Invalid UTF-8 inside a string is refused, not replaced.
        #expect(problem(Data(Array(#"{"doors":[{"name":""#.utf8) + [0xC3, 0x28] + Array(#""}]}"#.utf8))).contains("not valid UTF-8"))
    }

    @Test func deepNestingIsRefusedWithoutRecursion() {
        for opener in ["[", "{\"a\":"] {
            let deep = String(repeating: opener, count: 200_000)
            #expect(problem(deep).contains("nesting deeper than 64 levels"))
        }
        let nested = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(problem("{\"x\": \(nested)}") == "configuration key x: unknown key")
    }

    /// Deterministic byte mutations of a full configuration: every one is accepted or refused with a sentence.
    @Test func mutatedConfigurationsNeverCrash() {
        let base = Array(#"""
            {"doors": [{"name": "main", "methods": ["face", "card", "pin"], "relay": {"pulseSeconds": 3, "polarity": "failSecure"},
                        "heldOpenSeconds": 30}],
             "keypad": {"minDigits": 4, "maxDigits": 8, "lockoutFailures": 5},
             "face": {"threshold": 0.5, "captureZone": [0.1, 0.1, 0.8, 0.8], "source": {"replay": "/x.mjpeg", "fps": 10}},
             "retention": {"accessEventDays": 180}}
            """#.utf8)
        let alphabet = Array(#"{}[]:,"0123456789eE+-.ntfaINx\ "#.utf8) + [0x00, 0xFF, 0x0A]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var refused = 0
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + next() % 3) {
                let position = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[position] = alphabet[next() % alphabet.count]
                case 1: bytes.insert(alphabet[next() % alphabet.count], at: position)
                default: bytes.remove(at: position)
                }
            }
            if problem(Data(bytes)) != "accepted" { refused += 1 }
        }
        #expect(refused > 1000)
    }
}
