import Foundation
import GateControl
import Testing

/// The gate machine's rules through the real daemon and CLI: lockdown, card + PIN, duress PIN, anti-passback.
@Suite(.serialized) struct AccessRulesTests {
    @Test func lockdownRefusesAValidCardAndFireStillReleases() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3D4E5F6")
        try gate.start()
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
        let on = gate.run(["door", "lockdown", "main", "on"])
        #expect(on.succeeded, "\(on.stderr)")
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "denied (lockedDown)")
        let open = gate.run(["door", "open"])
        #expect(!open.succeeded && open.stderr.contains("lockedDown"), "\(open.stdout) \(open.stderr)")
        #expect(try gate.eventually(within: 5) { try gate.status().doors[0].lock == "lockdown" })
        _ = gate.simulate("fire", "on")
        let status = try gate.status().doors[0]
        #expect(status.fireAlarm && status.relayEnergized, "fire releases a locked-down door")
        _ = gate.simulate("fire", "off")
        #expect(gate.run(["door", "lockdown", "--all", "off"]).succeeded)
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
        let events = try gate.events()
        #expect(events.contains { $0.reason == "lockedDown" && $0.result == "denied" })
    }

    @Test func cardPlusPinNeedsBothWithinTheTimeout() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3D4E5F6", pin: "246813")
        try gate.start(config: #"{"secondFactorSeconds": 6, "doors": [{"name": "main", "methods": ["card", "pin"], "verifyMode": "card+pin"}]}"#)
        #expect(gate.simulate("pin", "246813") == "denied (secondFactorNeeded) resident \(id)", "a PIN alone does not open")
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "denied (secondFactorNeeded) resident \(id)")
        #expect(gate.simulate("pin", "246813") == "granted (valid) resident \(id)")
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "denied (secondFactorNeeded) resident \(id)")
        usleep(6_500_000)
        #expect(gate.simulate("pin", "246813") == "denied (secondFactorNeeded) resident \(id)", "a late PIN")
    }

    @Test func aDuressPinOpensAndWritesADuressAlarm() throws {
        let gate = Gate()
        let id = try gate.resident(pin: "246813")
        let set = gate.run(["pin", "set", id, "--duress"], stdin: "975310\n")
        #expect(set.succeeded, "\(set.stderr)")
        let same = gate.run(["pin", "set", id, "--duress"], stdin: "246813\n")
        #expect(!same.succeeded, "a duress PIN must differ from the PIN")
        try gate.start()
        let normal = gate.simulate("pin", "246813")
        #expect(normal == "granted (valid) resident \(id)")
        #expect(gate.simulate("pin", "975310") == normal, "no visible difference at the gate")
        let events = try gate.events()
        let alarms = events.filter { $0.reason == "duress" }
        #expect(alarms.count == 1)
        #expect(alarms.first?.result == "alarm")
        #expect(alarms.first?.resident == id)
        #expect(!gate.daemonOutput.contains("duress"), "the journal line of the decision does not say duress")
    }

    @Test func hardAntiPassbackDeniesASecondEntryAndExitResetsIt() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3D4E5F6")
        try gate.start(config: """
            {"doors": [
              {"name": "in", "methods": ["card"], "antiPassback": {"area": "garage", "direction": "entry", "mode": "hard"}},
              {"name": "out", "methods": ["card"], "antiPassback": {"area": "garage", "direction": "exit", "mode": "hard"}}
            ]}
            """)
        #expect(gate.simulate("card", "--door", "in", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
        #expect(gate.simulate("card", "--door", "in", "--uid", "04A1B2C3D4E5F6") == "denied (antiPassback) resident \(id)")
        #expect(gate.stop() == 0)
        try gate.start(config: """
            {"doors": [
              {"name": "in", "methods": ["card"], "antiPassback": {"area": "garage", "direction": "entry", "mode": "hard"}},
              {"name": "out", "methods": ["card"], "antiPassback": {"area": "garage", "direction": "exit", "mode": "hard"}}
            ]}
            """)
        #expect(gate.simulate("card", "--door", "in", "--uid", "04A1B2C3D4E5F6") == "denied (antiPassback) resident \(id)",
                "presence survives a restart")
        #expect(gate.simulate("card", "--door", "out", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
        #expect(gate.simulate("card", "--door", "in", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
    }

    @Test func configCheckRefusesAVerifyModeThatLeavesAResidentWithoutAWayIn() throws {
        let gate = Gate()
        let facePin = try gate.checkConfig(#"{"doors": [{"name": "main", "methods": ["face", "pin"], "verifyMode": "face+pin"}]}"#)
        #expect(!facePin.result.succeeded)
        #expect(facePin.result.stdout.contains("doors[0].verifyMode"), "\(facePin.result.stdout)")
        let unitPin = try gate.checkConfig(#"{"doors": [{"name": "main", "verifyMode": "unit+pin"}]}"#, name: "unit")
        #expect(!unitPin.result.succeeded)
        #expect(unitPin.result.stdout.contains("keypad.mode"))
        let fine = try gate.checkConfig(#"{"keypad": {"mode": "unitPin"}, "doors": [{"name": "main", "verifyMode": "unit+pin"}]}"#, name: "fine")
        #expect(fine.result.succeeded, "\(fine.result.stdout)")
    }
}
