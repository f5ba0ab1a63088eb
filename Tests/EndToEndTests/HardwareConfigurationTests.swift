import Foundation
import Testing

/// The hardware keys are as strict as the rest, and a GPIO door that cannot get its lines stops the
/// daemon before it is ready (no devices needed: the chip does not exist on this machine).
@Suite struct HardwareConfigurationTests {
    @Test(arguments: [
        (#"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip0", "relayLine": 3, "relayActivLow": true}}]}"#, "doors[0].gpio.relayActivLow: unknown key"),
        (#"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip0"}}]}"#, "doors[0].gpio.relayLine: a GPIO door needs its relay line"),
        (#"{"doors": [{"name": "main", "gpio": {"relayLine": 3}}]}"#, "doors[0].gpio.chip"),
        (#"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip0", "relayLine": 2000}}]}"#, "doors[0].gpio.relayLine: 2000 is out of range 0–1023"),
        (#"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip0", "relayLine": 3, "rexLine": 3}}]}"#, "doors[0].gpio.rexLine: line 3 is already used as relayLine"),
        (#"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip0", "relayLine": 3, "debounceMilliseconds": 5000}}]}"#, "doors[0].gpio.debounceMilliseconds"),
        (#"{"face": {"source": {"camera": {"device": "/dev/video0", "format": "h264"}}}}"#, "face.source.camera.format: \"h264\" is not one of: auto, mjpeg, yuyv"),
        (#"{"face": {"source": {"camera": {"device": "/dev/video0", "fps": 500}}}}"#, "face.source.camera.fps: 500 is out of range 1–120"),
        (#"{"face": {"source": {"camera": {"device": "/dev/video0", "exposure": 3}}}}"#, "face.source.camera.exposure: unknown key"),
        (#"{"face": {"source": {"camera": {"width": 640}}}}"#, "face.source.camera.device"),
        (#"{"face": {"source": {"replay": "/tmp/x.mjpeg", "camera": {"device": "/dev/video0"}}}}"#, "not both"),
    ])
    func badHardwareConfigurationIsRefusedByName(config: String, message: String) throws {
        let (check, _) = try Gate().checkConfig(config)
        #expect(check.status == 1)
        #expect(check.stdout.contains(message), "\(check.stdout)")
    }

    @Test func aGPIODoorWhoseChipIsMissingStopsStartupBeforeReady() throws {
        let gate = Gate()
        let path = "\(gate.directory)-gpio.json"
        try #"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip-optgate-missing", "relayLine": 3, "rexLine": 5}}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let daemon = Gate.execute(Binaries.daemon, ["--state-dir", gate.directory, "--config", path])
        #expect(daemon.status == 69)
        #expect(daemon.stderr.contains("door main: cannot request line 3 of gpiochip-optgate-missing as an output: No such file or directory"),
                "\(daemon.stderr)")
        #expect(!daemon.stderr.contains("gate ready"))
    }

    @Test func withSimulateAGPIODoorIsSimulatedAndDoorsWithoutGPIOWarn() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "main", "gpio": {"chip": "gpiochip-optgate-missing", "relayLine": 3}}]}"#)
        #expect(gate.simulate("rex", "--door", "main").contains("granted"), "\(gate.daemonOutput)")
        #expect(gate.stop() == 0)
    }
}
