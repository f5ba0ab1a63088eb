import Foundation
import Testing

/// Readers in the real daemon, without reader hardware (device tests: Tests/DeviceTests, scripts/pcsc-test).
@Suite(.serialized) struct ReaderDaemonTests {
    @Test func aMissingReaderDeviceNeitherStopsStartupNorCardEntry() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3D4E5F6")
        try gate.start(config: #"""
            {"readers": [{"door": "main", "kind": "wedge", "device": "/dev/input/by-id/usb-not-plugged-in-event-kbd"},
                         {"door": "main", "kind": "keypad", "device": "/dev/input/by-id/usb-no-keypad-event-kbd"}]}
            """#)
        #expect(gate.eventually(within: 5) { gate.daemonOutput.components(separatedBy: "reader device unavailable").count == 3 },
                "each missing reader is logged")
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4E5F6") == "granted (valid) resident \(id)")
        usleep(1_500_000)
        #expect(gate.daemonOutput.components(separatedBy: "reader device unavailable").count == 3,
                "retries are not logged again")
        #expect(gate.stop() == 0)
        #expect(gate.daemonOutput.contains("evdev reader stopped"), "readers stop on graceful shutdown")
    }

    @Test func aBadReaderEntryStopsStartupNamingTheKey() throws {
        let gate = Gate()
        try #"{"readers": [{"door": "main", "kind": "pcsc", "device": "/dev/input/event3"}]}"#
            .write(toFile: gate.configPath, atomically: true, encoding: .utf8)
        let checked = Gate.execute(Binaries.cli, ["config", "check", gate.configPath])
        #expect(!checked.succeeded)
        #expect((checked.stdout + checked.stderr).contains("readers[0].device: applies to keypad, wedge and osdp readers only, not pcsc"))
    }
}
