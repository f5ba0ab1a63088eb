import Foundation
import GateControl
import Testing

/// Issue 9's PIN attacks, replayed against the real daemon and CLI: none of them works any more.
@Suite(.serialized) struct PinGuessingTests {
    static let wrong = ["111222", "333444", "555666", "777888", "999000", "102938", "564738", "918273", "382910"]

    /// Adds a resident of `unit` and sets their PIN with `pin set --config` (the daemon's rules).
    func resident(_ gate: Gate, name: String, unit: String, pin: String? = nil, card: String? = nil, config: String? = nil) throws -> String {
        let added = gate.run(["resident", "add", "--name", name, "--unit", unit])
        try #require(added.succeeded, "\(added.stderr)")
        let id = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if let card { try #require(gate.run(["card", "add", id, "--uid", card]).succeeded) }
        if let pin {
            let set = gate.run(["pin", "set", id] + (config.map { ["--config", $0] } ?? []), stdin: pin + "\n")
            try #require(set.succeeded, "\(set.stderr)")
        }
        return id
    }

    /// Writes a configuration file beside the state directory. - Returns: its path.
    func config(_ gate: Gate, _ text: String) throws -> String {
        let path = "\(gate.directory)-pin.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func kill9(_ gate: Gate) throws {
        let daemon = try #require(gate.daemon)
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        gate.daemon = nil
    }

    /// The attack: four guesses, then the attacker's own valid PIN, again and again. Before the fix the
    /// own PIN cleared the count and the keypad never locked.
    @Test func interleavingTheAttackersOwnPinStillReachesLockedOut() throws {
        let gate = Gate()
        let attacker = try resident(gate, name: "Attacker", unit: "3-1501", pin: "246813", card: "04A1B2C3D4E5F6")
        try gate.start()
        for guess in Self.wrong.prefix(4) { #expect(gate.simulate("pin", guess) == "denied (unknownPin)") }
        #expect(gate.simulate("pin", "246813") == "granted (valid) resident \(attacker)")
        #expect(gate.simulate("pin", Self.wrong[4]) == "denied (unknownPin)")
        #expect(gate.simulate("pin", "246813") == "denied (lockedOut)", "the fifth wrong PIN locks, whatever came between")
        #expect(gate.simulate("pin", Self.wrong[5]) == "denied (lockedOut)", "guesses are refused unchecked")
        #expect(try gate.status().doors[0].keypadLockedOut)
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(attacker)", "cards are unaffected")
        let events = try gate.events()
        #expect(events.contains { $0.result == "alarm" && $0.reason == "keypadLockout" })
    }

    /// A restart (SIGTERM) and a kill (SIGKILL, as the watchdog does) keep both a running count and a lockout.
    @Test func theCountAndALockoutSurviveARestartAndAKill() throws {
        let gate = Gate()
        let id = try resident(gate, name: "Li Wei", unit: "3-1501", pin: "246813")
        let settings = #"{"keypad": {"lockoutSeconds": 600}}"#
        try gate.start(config: settings)
        for guess in Self.wrong.prefix(4) { #expect(gate.simulate("pin", guess) == "denied (unknownPin)") }
        try kill9(gate)
        try gate.start(config: settings)
        #expect(gate.simulate("pin", Self.wrong[4]) == "denied (unknownPin)")
        #expect(gate.simulate("pin", "246813") == "denied (lockedOut)", "four wrong PINs before the kill and one after lock the keypad")

        #expect(gate.stop() == 0)
        try gate.start(config: settings)
        #expect(try gate.status().doors[0].keypadLockedOut, "a lockout survives a clean restart")
        #expect(gate.simulate("pin", "246813") == "denied (lockedOut)")
        try kill9(gate)
        try gate.start(config: settings)
        #expect(gate.simulate("pin", "246813") == "denied (lockedOut)", "a lockout survives SIGKILL")
        #expect(gate.daemonOutput.contains("keypad lockout carried over from before the restart"))
        #expect(!(try gate.events()).contains { $0.result == "granted" && $0.resident == id })
    }

    /// Unit + PIN: a PIN opens only under its own unit code, two units may share a PIN, and typing a
    /// resident's PIN under someone else's unit is a wrong PIN.
    @Test func unitPinGrantsTheRightResidentAndAWrongUnitIsDenied() throws {
        let gate = Gate()
        let path = try config(gate, #"{"keypad": {"mode": "unitPin"}}"#)
        let li = try resident(gate, name: "Li Wei", unit: "3-2-1501", pin: "246813", config: path)
        let chen = try resident(gate, name: "Chen Jie", unit: "5-0802", pin: "246813", config: path)
        let zhao = try resident(gate, name: "Zhao Min", unit: "7-0101", pin: "975310", config: path)
        try gate.start(config: try String(contentsOfFile: path, encoding: .utf8))
        #expect(gate.simulate("pin", "--unit", "321501", "246813") == "granted (valid) resident \(li)")
        #expect(gate.simulate("pin", "--unit", "50802", "246813") == "granted (valid) resident \(chen)")
        #expect(gate.simulate("keys", "70101#975310#") == "granted (valid) resident \(zhao)")
        #expect(gate.simulate("pin", "--unit", "321501", "975310") == "denied (unknownPin)", "Zhao's PIN under Li's unit")
        #expect(gate.simulate("pin", "--unit", "999999", "246813") == "denied (unknownPin)", "a unit nobody lives in")
        #expect(!gate.simulate("pin", "975310").contains("granted"), "a PIN alone is only a unit code waiting for #")
        #expect(gate.simulate("keys", "*").hasPrefix("door main"))
        // Those PINs have no lookup tag: a PIN-only keypad could not find them, and config check says so.
        let pinOnly = gate.run(["config", "check", try config(gate, #"{"keypad": {"mode": "pin"}}"#)])
        #expect(pinOnly.stdout.contains("warning: 3 PIN(s) were set for unit + PIN keypads"), "\(pinOnly.stdout)")
    }

    @Test func trivialPinsAndTheUnitCodeAreRefusedAndPinSetIsNoOracle() throws {
        let gate = Gate()
        let li = try resident(gate, name: "Li Wei", unit: "3-2-1501")
        let chen = try resident(gate, name: "Chen Jie", unit: "5-0802", pin: "582946")
        for (trivial, why) in [("123456", "sequence"), ("777777", "same"), ("121212", "pattern"), ("321501", "unit code"),
                               ("2468", "at least 6 digits")] {
            let refused = gate.run(["pin", "set", li], stdin: trivial + "\n")
            #expect(!refused.succeeded && refused.stderr.contains(why), "\(trivial): \(refused.stderr)")
        }
        // Li asks for the PIN Chen holds: it is set exactly like any other PIN. Nothing says it is taken.
        let shared = gate.run(["pin", "set", li], stdin: "582946\n")
        let fresh = gate.run(["pin", "set", chen], stdin: "582946\n")
        #expect(shared.succeeded && shared.stderr.isEmpty && shared.stdout == "PIN set for \(li)\n")
        #expect(fresh.succeeded && fresh.stdout == "PIN set for \(chen)\n")

        // At a PIN-only keypad a PIN two residents hold lets neither in, counts as a wrong PIN and tells the manager.
        try gate.start(config: #"{"keypad": {"lockoutFailures": 2}}"#)
        #expect(gate.simulate("pin", "582946") == "denied (ambiguousPin)")
        #expect(gate.run(["audit", "list"]).stdout.contains("pin.ambiguous"))
        #expect(gate.simulate("pin", "111222") == "denied (unknownPin)")
        #expect(gate.simulate("pin", "582946") == "denied (lockedOut)", "the ambiguous PIN was charged as a wrong PIN")
    }

    @Test func configCheckPrintsTheGuessingBudget() throws {
        let gate = Gate()
        let shipped = try String(contentsOfFile: Self.repository + "/dist/config/optgated.json", encoding: .utf8)
        let (result, _) = try gate.checkConfig(shipped)
        #expect(result.succeeded, "\(result.stdout)")
        let text = result.stdout
        #expect(text.contains("keypad: unit + PIN"), "new installs use unit + PIN: \(text)")
        #expect(text.contains("wrong PINs a day at one keypad"))
        #expect(text.contains("unit + PIN: about") && text.contains("PIN only:   about"))
        #expect(text.contains("<- this configuration"))
        let fast = try gate.checkConfig(#"{"keypad": {"lockoutWindowSeconds": 60, "lockoutMaxSeconds": 60}}"#, name: "weak").result
        #expect(fast.stdout.contains("at most 7,200 wrong PINs a day at one keypad"), "a fixed one-minute lockout: \(fast.stdout)")
        #expect(text.contains("at most 145 wrong PINs a day at one keypad"), "the shipped back-off: \(text)")
    }

    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
}
