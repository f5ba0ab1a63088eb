import Foundation
import GateControl
import Testing

/// Access rules through the real daemon and CLI, in the site zone Asia/Shanghai (UTC+8) whatever the
/// test machine's zone is: schedules, a make-up workday from an imported .ics file, move-out.
/// The daemon's wall clock is set with `OPTGATE_SIMULATED_NOW` (honoured with `--simulate` only).
@Suite(.serialized) struct ScheduleTests {
    static let config = """
        {"doors": [{"name": "main", "methods": ["card", "pin"]}], "site": {"timeZone": "Asia/Shanghai"}}
        """

    static var calendarFixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/calendars/cn-2026.ics").path
    }

    func succeed(_ gate: Gate, _ arguments: [String]) throws {
        let result = gate.run(arguments)
        try #require(result.succeeded, "optgate \(arguments.joined(separator: " ")): \(result.stderr)")
    }

    @Test func aCardOutsideItsScheduleIsDeniedInTheSiteZone() throws {
        let gate = Gate()
        let day = try gate.resident(name: "Day", card: "04D0D0D0")
        let evening = try gate.resident(name: "Evening", card: "04E0E0E0")
        let everyone = try gate.resident(name: "No group", card: "04F0F0F0")
        try succeed(gate, ["schedule", "add", "day", "--days", "mon-fri", "--time", "07:00-12:00", "--time", "13:00-19:00"])
        try succeed(gate, ["schedule", "add", "evening", "--days", "mon-sun", "--time", "19:00-23:00"])
        try succeed(gate, ["group", "add", "day", "--door", "main", "--schedule", "day"])
        try succeed(gate, ["group", "add", "evening", "--door", "main", "--schedule", "evening"])
        try succeed(gate, ["resident", "update", day, "--group", "day"])
        try succeed(gate, ["resident", "update", evening, "--group", "evening"])
        // Tuesday 20:00 in Shanghai is 12:00 UTC: read in UTC, "day" would be open and "evening" closed.
        try gate.start(config: Self.config, environment: ["OPTGATE_SIMULATED_NOW": "2026-12-01T20:00:00+08:00"])
        #expect(gate.simulate("card", "--uid", "04D0D0D0") == "denied (outsideSchedule) resident \(day)")
        #expect(gate.simulate("card", "--uid", "04E0E0E0") == "granted (valid) resident \(evening)")
        #expect(gate.simulate("card", "--uid", "04F0F0F0") == "granted (valid) resident \(everyone)", "no group: the default group")
        let events = try gate.events()
        #expect(events.contains { $0.reason == "outsideSchedule" && $0.resident == day && $0.method == "card" })

        // A group without the door: notInGroup, at once (the rules reload when their version moves).
        try succeed(gate, ["group", "add", "garage", "--door", "main", "--schedule", "day"])
        let list = gate.run(["group", "list"])
        #expect(list.stdout.contains("garage") && list.stdout.contains("day"))
        gate.stop()
    }

    @Test func aMakeUpWorkdayFromAnImportedCalendarOpensLikeAWeekday() throws {
        let gate = Gate()
        let id = try gate.resident(name: "Office", card: "04A0A0A0")
        try succeed(gate, ["schedule", "add", "office", "--days", "mon-fri", "--time", "08:00-18:00"])
        try succeed(gate, ["group", "add", "office", "--door", "main", "--schedule", "office"])
        try succeed(gate, ["resident", "update", id, "--group", "office"])
        // Sunday 20 September 2026, a make-up workday (国庆节 补班) in the State Council's arrangement.
        try gate.start(config: Self.config, environment: ["OPTGATE_SIMULATED_NOW": "2026-09-20T10:00:00+08:00"])
        #expect(gate.simulate("card", "--uid", "04A0A0A0") == "denied (outsideSchedule) resident \(id)", "a Sunday, before the import")

        let imported = gate.run(["calendar", "import", "cn-2026", Self.calendarFixture])
        try #require(imported.succeeded, "\(imported.stderr)")
        #expect(imported.stdout.contains("33 holiday(s), 6 make-up workday(s)"))
        #expect(gate.simulate("card", "--uid", "04A0A0A0") == "granted (valid) resident \(id)", "the make-up workday opens like a weekday")
        let days = gate.run(["calendar", "list", "--days"]).stdout
        #expect(days.contains("2026-09-20 sun  workday"))
        gate.stop()

        // Thursday 1 October (National Day) is a holiday, and "office" has no holiday plan.
        try gate.start(config: Self.config, environment: ["OPTGATE_SIMULATED_NOW": "2026-10-01T10:00:00+08:00"])
        #expect(gate.simulate("card", "--uid", "04A0A0A0") == "denied (outsideSchedule) resident \(id)")
        gate.stop()
    }

    @Test func aPassageScheduleHoldsTheDoorOpenInTheSiteZoneUntilItIsRemoved() throws {
        let gate = Gate()
        try succeed(gate, ["schedule", "add", "rush", "--days", "mon-fri", "--time", "07:00-09:00"])
        try succeed(gate, ["door", "passage", "main", "--schedule", "rush"])
        #expect(gate.run(["schedule", "list"]).stdout.contains("passage at main"))
        // Monday 08:00 in Shanghai (00:00 UTC: outside the schedule if it were read in UTC).
        try gate.start(config: Self.config, environment: ["OPTGATE_SIMULATED_NOW": "2026-11-30T08:00:00+08:00"])
        func door() throws -> DoorStatus? { try gate.status().doors.first { $0.name == "main" } }
        #expect(try gate.eventually(within: 3) { try door()?.lock == .passage && door()?.relayEnergized == true })
        try succeed(gate, ["door", "passage", "main", "--schedule", "none"])
        #expect(try gate.eventually(within: 3) { try door()?.lock == .locked && door()?.relayEnergized == false },
                "ending passage locks the door within the rules' refresh (a second)")
        gate.stop()
    }

    @Test func aBrokenCalendarIsRefusedWithItsLineAndNothingIsStored() throws {
        let gate = Gate()
        let path = "\(gate.directory)-broken.ics"
        try "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261301\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let refused = gate.run(["calendar", "import", "broken", path])
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("line 3:") && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
        #expect(gate.run(["calendar", "list"]).stdout.contains("no calendars imported"))
    }

    @Test func aFacePinGroupNeedsDoorsThatAcceptCardAndPin() throws {
        let gate = Gate()
        let faceOnlyish = try gate.checkConfig("""
            {"doors": [{"name": "lobby", "methods": ["face", "pin"]}, {"name": "main", "methods": ["face", "card", "pin"]}]}
            """, name: "doors").path
        let refused = gate.run(["group", "add", "g", "--door", "lobby", "--mode", "face+pin", "--config", faceOnlyish])
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("face may never be the only way in"), "\(refused.stderr)")
        #expect(gate.run(["group", "add", "g", "--door", "main", "--mode", "face+pin", "--config", faceOnlyish]).succeeded)
        #expect(!gate.run(["group", "add", "h", "--door", "nowhere", "--config", faceOnlyish]).succeeded)
    }

    @Test func aResidentPastValidUntilIsDeniedAndTheirTemplatesAreGoneWithoutAManualStep() throws {
        let gate = Gate()
        let models = FaceTests.models, photos = FaceTests.photos
        try #require(FileManager.default.fileExists(atPath: "\(photos)/obama.jpg"), "run scripts/fetch-test-photos")
        let id = try gate.resident(name: "Moving", card: "04B0B0B0")
        try succeed(gate, ["consent", "grant", id, "--notice-version", "1", "--method", "kiosk"])
        try succeed(gate, ["face", "enroll", id, "--models", models, "--image", "\(photos)/obama.jpg"])
        let stays = try gate.resident(name: "Staying", card: "04C0C0C0")
        try succeed(gate, ["consent", "grant", stays, "--notice-version", "1", "--method", "kiosk"])
        try succeed(gate, ["face", "enroll", stays, "--models", models, "--image", "\(photos)/biden.jpg"])
        // Moves out four seconds from now (an ISO 8601 time; whole days work the same way at midnight).
        let moveOut = Date().addingTimeInterval(4)
        let formatter = ISO8601DateFormatter()
        try succeed(gate, ["resident", "update", id, "--valid-until", formatter.string(from: moveOut)])
        try gate.start(config: Self.config)
        #expect(gate.simulate("card", "--uid", "04B0B0B0") == "granted (valid) resident \(id)")
        Thread.sleep(until: moveOut.addingTimeInterval(0.2))
        #expect(gate.simulate("card", "--uid", "04B0B0B0") == "denied (expired) resident \(id)")

        func templates(_ resident: String) throws -> Int {
            let show = gate.run(["resident", "show", resident, "--json"])
            try #require(show.succeeded, "\(show.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
            return object?["faceTemplates"] as? Int ?? -1
        }
        #expect(try gate.eventually(within: 5) { try templates(id) == 0 }, "the move-out service deleted the templates")
        #expect(try templates(stays) == 1)
        let audit = gate.run(["audit", "list"]).stdout
        let line = try #require(audit.split(separator: "\n").first { $0.contains("resident.moveOut") }, "\(audit)")
        #expect(line.contains(id) && line.contains("optgated") && line.contains("\"templatesDeleted\":\"1\"") && line.contains("\"receipt\":"))
        let consent = gate.run(["consent", "show", id]).stdout
        #expect(consent.contains("withdraw"), "the withdrawal row is the resident's receipt in the consent ledger: \(consent)")
        #expect(gate.daemonOutput.contains("face data deleted at move-out"))
        #expect(!gate.daemonOutput.contains(id), "the daemon's log never names the resident")
        gate.stop()
    }
}
