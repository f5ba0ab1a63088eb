import Foundation
import GateControl
import GateCore
import Testing

/// The daemon and the CLI as a property manager runs them: real processes, a real SQLite file, the
/// real control socket.
@Suite(.serialized) struct DaemonScenarioTests {
    @Test func cardsAndPinsOpenAndARemovedCardIsDeniedAtOnce() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3D4E5F6", pin: "135792")
        try gate.start()

        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
        #expect(gate.simulate("card", "--uid", "04FFFFFFFF") == "denied (unknownCard)")
        #expect(gate.simulate("pin", "135792") == "granted (valid) resident \(id)")
        #expect(try gate.status().doors[0].lock == .unlocked)

        #expect(gate.run(["card", "remove", id, "--uid", "04A1B2C3D4E5F6"]).succeeded)
        let removedAt = Date()
        let denied = gate.eventually(within: 1) { gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "denied (unknownCard)" }
        #expect(denied && Date().timeIntervalSince(removedAt) < 1, "a removed card is refused within 1 s")

        let events = try gate.events()
        #expect(events.first?.method == "card" && events.first?.result == "granted" && events.first?.resident == id)
        #expect(events.contains { $0.method == "pin" && $0.result == "granted" && $0.resident == id })
        #expect(events.contains { $0.method == "card" && $0.reason == "unknownCard" && $0.resident == nil })
    }

    @Test func fiveWrongPinsLockTheKeypadEvenForTheRightPin() throws {
        let gate = Gate()
        let id = try gate.resident(pin: "246813")
        try gate.start()
        for wrong in ["111222", "333444", "555666", "777888", "999000"] {
            #expect(gate.simulate("pin", wrong) == "denied (unknownPin)")
        }
        #expect(gate.simulate("pin", "246813") == "denied (lockedOut)")
        #expect(try gate.status().doors[0].keypadLockedOut)
        let events = try gate.events()
        #expect(events.contains { $0.result == "alarm" && $0.reason == "keypadLockout" })
        #expect(!events.contains { $0.result == "granted" && $0.resident == id })
    }

    @Test func lockoutEndsAfterItsDuration() throws {
        let gate = Gate()
        let id = try gate.resident(pin: "246813")
        try gate.start(config: #"{"keypad": {"lockoutFailures": 2, "lockoutSeconds": 1}}"#)
        _ = gate.simulate("pin", "111222")
        _ = gate.simulate("pin", "111222")
        #expect(gate.simulate("pin", "246813") == "denied (lockedOut)")
        usleep(1_100_000)
        #expect(gate.simulate("pin", "246813") == "granted (valid) resident \(id)")
    }

    @Test func rexOpensAndTheRelayFollowsThePulse() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "lobby", "relay": {"pulseSeconds": 0.5}}]}"#)
        #expect(gate.simulate("rex", "--door", "lobby") == "granted (exitRequest)")
        let status = try gate.status()
        #expect(status.doors[0].lock == .unlocked && status.doors[0].relayEnergized)
        #expect(gate.eventually(within: 2) { (try? gate.status().doors[0].lock) == .locked })
        #expect(try gate.status().doors[0].relayEnergized == false)
    }

    @Test func failSafeRelayIsEnergisedWhileLocked() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "main", "relay": {"polarity": "failSafe"}}]}"#)
        #expect(try gate.status().doors[0].relayEnergized, "a maglock holds while energised")
        _ = gate.simulate("rex")
        #expect(try gate.status().doors[0].relayEnergized == false)
    }

    @Test func forcedOpenAndHeldOpenAlarms() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "main", "heldOpenSeconds": 1, "relay": {"pulseSeconds": 0.5}}]}"#)
        _ = gate.simulate("contact", "open")
        _ = gate.simulate("contact", "closed")
        #expect(try gate.events().contains { $0.result == "alarm" && $0.reason == "forcedOpen" })

        _ = gate.simulate("rex")
        _ = gate.simulate("contact", "open")
        #expect(gate.eventually(within: 3) { (try? gate.events().contains { $0.reason == "heldOpen" }) == true })
        #expect(try gate.status().doors[0].alarms.map(\.rawValue) == ["heldOpen"])
        _ = gate.simulate("contact", "closed")
        let events = try gate.events()
        #expect(events.filter { $0.reason == "forcedOpen" }.count == 1, "an authorised opening is not forced")
        #expect(events.last?.result == "cleared")
    }

    @Test func fireReleasesTheDoorUntilItClears() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "main", "relay": {"pulseSeconds": 0.3}}]}"#)
        _ = gate.simulate("fire", "on")
        usleep(600_000)
        var door = try gate.status().doors[0]
        #expect(door.lock == .fireReleased && door.relayEnergized && door.fireAlarm)
        _ = gate.simulate("rex")
        usleep(600_000)
        #expect(try gate.status().doors[0].lock == .fireReleased, "nothing re-locks during a fire")
        _ = gate.simulate("fire", "off")
        door = try gate.status().doors[0]
        #expect(door.lock == .locked && !door.relayEnergized)
        let reasons = try gate.events().map(\.reason)
        #expect(reasons.contains("fireRelease") && reasons.contains("fireCleared"))
    }

    @Test func remoteOpenIsRecordedWithTheOperatorsUnixUser() throws {
        let gate = Gate()
        try gate.start()
        #expect(gate.run(["door", "open"]).succeeded)
        let user = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        let remote = try gate.events().first { $0.method == "remote" }
        #expect(remote?.result == "granted")
        #expect(remote?.operator == "unix:\(user)")
        #expect(gate.run(["door", "open", "--door", "nowhere"]).stderr.contains("no door is named nowhere"))
    }

    @Test func expiredResidentIsDenied() throws {
        let gate = Gate()
        let id = try gate.resident(card: "0A0B0C0D", validUntil: "2020-01-31")
        try gate.start()
        #expect(gate.simulate("card", "--uid", "0A0B0C0D") == "denied (expired) resident \(id)")
    }

    @Test func withdrawingConsentKeepsCardAndPinWorking() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3", pin: "975310")
        try gate.start()
        #expect(gate.run(["consent", "grant", id, "--notice-version", "1", "--method", "paper", "--operator", "Wang"]).succeeded)
        #expect(gate.run(["consent", "withdraw", id]).succeeded)
        #expect(gate.simulate("card", "--uid", "04A1B2C3") == "granted (valid) resident \(id)")
        #expect(gate.simulate("pin", "975310") == "granted (valid) resident \(id)")
        let history = gate.run(["consent", "show", id, "--json"]).stdout
        #expect(history.contains("\"action\" : \"grant\"") && history.contains("\"action\" : \"withdraw\""))
    }

    @Test func eraseRemovesTheResidentAndTheAuditStillVerifies() throws {
        let gate = Gate()
        let id = try gate.resident(name: "Zhao Min", card: "04A1B2C3", pin: "975310")
        try gate.start()
        _ = gate.simulate("card", "--uid", "04A1B2C3")
        let export = gate.run(["export", id])
        #expect(export.succeeded && export.stdout.contains("Zhao Min") && export.stdout.contains("\"cards\""))
        #expect(!export.stdout.contains("04A1B2C3") && !export.stdout.contains("scrypt"), "no full UIDs or hashes in exports")
        let erase = gate.run(["resident", "erase", id])
        #expect(erase.succeeded && erase.stdout.contains("receipt"))
        #expect(gate.simulate("card", "--uid", "04A1B2C3") == "denied (unknownCard)")
        #expect(gate.run(["audit", "verify"]).stdout.hasPrefix("ok: "))
        #expect(!gate.run(["events", "--csv"]).stdout.contains(id))
    }

    @Test func gracefulShutdownLocksTheDoorAndRecordsIt() throws {
        let gate = Gate()
        try gate.start()
        _ = gate.simulate("rex")
        #expect(gate.stop() == 0)
        #expect(gate.daemonOutput.contains("relay released to its safe level"))
        let audit = gate.run(["audit", "list"]).stdout
        #expect(audit.contains("daemon.stop"))
        #expect(gate.run(["audit", "verify"]).succeeded)
    }

    @Test func secretsNeverReachTheLogOrTheDatabaseInClear() throws {
        let gate = Gate()
        _ = try gate.resident(card: "04C0FFEE1234AB", pin: "582946")
        try gate.start()
        _ = gate.simulate("card", "--uid", "04C0FFEE1234AB")
        _ = gate.simulate("pin", "582946")
        _ = gate.simulate("pin", "918273")
        _ = gate.simulate("card", "--uid", "04DEADBEEF0099")
        gate.stop()
        let log = gate.daemonOutput
        #expect(log.contains("access decision"), "the log is being captured")
        for secret in ["04C0FFEE1234AB", "582946", "918273", "04DEADBEEF0099", "C0FFEE"] {
            #expect(!log.localizedCaseInsensitiveContains(secret), "\(secret) in the daemon log")
            for suffix in ["", "-wal"] {
                let bytes = FileManager.default.contents(atPath: gate.databasePath + suffix) ?? Data()
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in optgate.sqlite\(suffix)")
            }
        }
    }
}
