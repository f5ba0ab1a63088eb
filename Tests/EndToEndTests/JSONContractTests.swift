import Foundation
import Testing

/// `status --json` and `events --json` are a contract (docs/cli.md): scripts and monitoring read these
/// keys and values. The types behind them may change (enums for lock, contact, face state; a struct for
/// the counts); the JSON may not.
@Suite struct JSONContractTests {
    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @Test func statusJSONKeepsItsKeysAndValues() throws {
        let gate = Gate()
        _ = try gate.resident(card: "04A1B2C3")
        try gate.start()
        let result = gate.run(["status", "--json"])
        try #require(result.succeeded, "\(result.stderr)")
        let status = try object(result.stdout)
        #expect(Set(status.keys) == ["version", "pid", "startedAt", "simulated", "face", "doors", "counts", "services", "storage", "filing"])
        // The filing counter (docs/compliance.md): added, never renamed.
        let filing = try #require(status["filing"] as? [String: Any])
        #expect(Set(filing.keys).isSuperset(of: ["people", "warnAt", "filingThreshold", "crossed"]))

        let face = try #require(status["face"] as? [String: Any])
        #expect(Set(face.keys) == ["state", "templates", "needingReenrolment", "framesProcessed", "framesSkipped", "facesAnalysed",
                                   "decisions", "skippedInARow"])
        #expect(face["state"] as? String == "off")

        let doors = try #require(status["doors"] as? [[String: Any]])
        let door = try #require(doors.first)
        #expect(Set(door.keys) == ["name", "lock", "relayEnergized", "contact", "fireAlarm", "alarms", "methods", "keypadLockedOut"])
        #expect(door["lock"] as? String == "locked")
        #expect(door["contact"] as? String == "closed")

        let counts = try #require(status["counts"] as? [String: Int])
        #expect(counts == ["residents": 1, "cards": 1, "pins": 0, "activeConsents": 0, "faceTemplates": 0, "peopleWithFaceData": 0,
                           "auditEntries": counts["auditEntries"] ?? -1])
        #expect((counts["auditEntries"] ?? 0) >= 3, "resident.add, card.add, daemon.start")

        let storage = try #require(status["storage"] as? [String: Any])
        #expect(storage["state"] as? String == "ok")

        // An open door, released: the other values of lock and contact.
        #expect(gate.simulate("card", "--uid", "04A1B2C3").hasPrefix("granted"))
        _ = gate.simulate("contact", "open")
        let released = try object(gate.run(["status", "--json"]).stdout)
        let releasedDoor = try #require((released["doors"] as? [[String: Any]])?.first)
        #expect(releasedDoor["lock"] as? String == "unlocked")
        #expect(releasedDoor["contact"] as? String == "open")
        _ = gate.simulate("fire", "on")
        let fire = try object(gate.run(["status", "--json"]).stdout)
        #expect((fire["doors"] as? [[String: Any]])?.first?["lock"] as? String == "fireReleased")
    }

    @Test func eventsJSONKeepsItsKeys() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3")
        try gate.start()
        #expect(gate.simulate("card", "--uid", "04A1B2C3").hasPrefix("granted"))
        #expect(gate.simulate("card", "--uid", "04FFFFFF").hasPrefix("denied"))
        let result = gate.run(["events", "--json"])
        try #require(result.succeeded, "\(result.stderr)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        try #require(events.count == 2, "\(result.stdout)")
        for event in events {
            #expect(Set(event.keys) == ["seq", "time", "door", "method", "result", "reason", "resident", "operator", "count"])
        }
        #expect(events[0]["resident"] as? String == id && events[0]["method"] as? String == "card")
        #expect(events[0]["result"] as? String == "granted" && events[0]["reason"] as? String == "valid")
        #expect(events[1]["resident"] is NSNull && events[1]["reason"] as? String == "unknownCard")
        #expect(events.allSatisfy { $0["count"] as? Int == 1 })
    }
}
