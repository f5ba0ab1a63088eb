import Foundation
import GateControl
import GateCore
import Testing

/// Presentation-attack defence through the real daemon (issue 12): a colour replay paired frame for frame
/// with an infrared replay (`face.infrared.replay`), and the geometry cue on a replay of a still photo.
@Suite(.serialized) struct LivenessDaemonTests {
    let faces = FaceTests()

    /// The near-infrared frames a scene gives, made from the same photos as the colour clip (make-replay --infrared).
    func infraredClip(_ gate: Gate, _ name: String, scene: String, repeat count: Int, _ photos: [String]) throws -> String {
        let path = "\(gate.directory)-\(name)-ir.mjpeg"
        let made = Gate.execute("\(Binaries.directory)/make-replay", [path, "--repeat", String(count), "--infrared", scene] + photos)
        try #require(made.succeeded, "\(made.stderr)")
        return path
    }

    /// `livenessFrames` 4 instead of 12: a debug build on a busy machine analyses about one frame a second.
    func config(replay: String, infrared: String? = nil, liveness: String? = nil) -> String {
        let policy = liveness.map { #""liveness": "\#($0)", "# } ?? ""
        let ir = infrared.map { #", "infrared": {"replay": "\#($0)"}"# } ?? ""
        return """
        {"doors": [{"name": "main", "methods": ["face", "card", "pin"]}],
         "face": {"modelsDirectory": "\(FaceTests.models)", "cooldownSeconds": 1, "livenessFrames": 4, \(policy)
                  "source": {"replay": "\(replay)", "fps": 10, "loop": true}\(ir)}}
        """
    }

    func faceEvents(_ gate: Gate) -> [Gate.Event] { ((try? gate.events()) ?? []).filter { $0.method == "face" } }

    @Test func aScreenInTheInfraredCameraIsRefusedAsLivenessFailedAndCardStillOpens() throws {
        let gate = Gate()
        let obama = try faces.photo("obama.jpg")
        let id = try faces.enrolled(gate, name: "Obama", card: "04A1B2C3D4", photos: [obama])
        let colour = try faces.clip(gate, "colour", repeat: 10, [obama])
        let screen = try infraredClip(gate, "screen", scene: "screen", repeat: 10, [obama])
        try gate.start(config: config(replay: colour, infrared: screen, liveness: "ir"))
        #expect(gate.eventually(within: 40) { faceEvents(gate).contains { $0.reason == "livenessFailed" } },
                "the enrolled face on a screen: the infrared camera sees no face")
        let events = faceEvents(gate)
        #expect(!events.contains { $0.result == "granted" }, "never opened by the screen")
        #expect(events.filter { $0.reason == "livenessFailed" }.allSatisfy { $0.resident == nil && $0.result == "denied" },
                "recorded without the resident, like a stranger")
        #expect(gate.daemonOutput.contains("face refused: liveness did not hold"))
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4") == "granted (valid) resident \(id)", "the card is unaffected")
        let status = try gate.status()
        #expect(status.doors.first?.liveness == .ir, "status --json shows the door's policy")
        _ = gate.stop()
    }

    @Test func theSameColourFramesWithALiveInfraredFaceOpen() throws {
        let gate = Gate()
        let obama = try faces.photo("obama.jpg")
        let id = try faces.enrolled(gate, name: "Obama", photos: [obama])
        let colour = try faces.clip(gate, "colour", repeat: 10, [obama])
        let live = try infraredClip(gate, "live", scene: "live", repeat: 10, [obama])
        try gate.start(config: config(replay: colour, infrared: live, liveness: "ir"))
        #expect(gate.eventually(within: 40) { faceEvents(gate).contains { $0.result == "granted" && $0.resident == id } })
        #expect(!faceEvents(gate).contains { $0.reason == "livenessFailed" })
        _ = gate.stop()
    }

    @Test func aStillPhotoUnderTheDefaultGeometryPolicyIsRefused() throws {
        let gate = Gate()
        let obama = try faces.photo("obama.jpg")
        _ = try faces.enrolled(gate, name: "Obama", photos: [obama])
        let colour = try faces.clip(gate, "still", repeat: 10, [obama])
        try gate.start(config: config(replay: colour))
        #expect(gate.eventually(within: 40) { faceEvents(gate).contains { $0.reason == "livenessFailed" } },
                "no infrared camera: the default is geometry, and a still photo never leaves its plane")
        #expect(!faceEvents(gate).contains { $0.result == "granted" })
        #expect(try gate.status().doors.first?.liveness == .geometry)
        _ = gate.stop()
    }

    @Test func aHeadThatTurnsOpensUnderTheDefaultGeometryPolicy() throws {
        let gate = Gate()
        let id = try faces.enrolled(gate, name: "Obama", card: "04A1B2C3D5", photos: [try faces.photo("obama.jpg")])
        // Two photos of the same man, his head turned about 20° one way and 14° the other: the nose moves in the
        // plane of eyes and mouth as a real head's does (a still photo of either is refused, above).
        let poses = [try faces.photo("obama2.jpg"), try faces.photo("obama3.jpg")]
        let turning = try faces.clip(gate, "turning", repeat: 2, Array(repeating: poses, count: 10).flatMap { $0 })
        try gate.start(config: config(replay: turning))
        #expect(gate.eventually(within: 40) { faceEvents(gate).contains { $0.result == "granted" && $0.resident == id } },
                "a head that turns passes the geometry cue")
        #expect(!faceEvents(gate).contains { $0.reason == "livenessFailed" })
        #expect(gate.simulate("card", "--uid", "04A1B2C3D5") == "granted (valid) resident \(id)", "the card is unaffected")
        _ = gate.stop()
    }

    @Test func configCheckPrintsThePolicyAndNoneNeedsTheAcknowledgement() throws {
        let gate = Gate()
        let base = #"{"doors": [{"name": "main", "methods": ["face", "card"]}], "face": {"source": {"replay": "/x.mjpeg"}, "#
        let refused = try gate.checkConfig(base + #""liveness": "none"}}"#, name: "none").result
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("face.liveness") && refused.stdout.contains("a photo of an enrolled resident can open this door")
                && refused.stdout.contains("face.noLivenessAcknowledged"), "\(refused.stdout)")
        let acknowledged = try gate.checkConfig(base + #""liveness": "none", "noLivenessAcknowledged": true}}"#, name: "ack").result
        #expect(acknowledged.succeeded)
        #expect(acknowledged.stdout.contains("face liveness at door main: none: a photo of an enrolled resident can open this door"),
                "\(acknowledged.stdout)")
        let defaulted = try gate.checkConfig(base + #""threshold": 0.5}}"#, name: "default").result
        #expect(defaulted.stdout.contains("face liveness at door main: geometry"), "\(defaulted.stdout)")
        let infrared = try gate.checkConfig(base + #""infrared": {"replay": "/ir.mjpeg"}}}"#, name: "ir").result
        #expect(infrared.stdout.contains("face liveness at door main: ir+geometry"), "the strongest the cameras allow: \(infrared.stdout)")
        let noCamera = try gate.checkConfig(base + #""liveness": "ir"}}"#, name: "nocamera").result
        #expect(noCamera.status == 1 && noCamera.stdout.contains("needs an infrared camera"), "\(noCamera.stdout)")
    }
}
