import FaceVision
import Foundation
import GateControl
import Testing

/// Face entry end to end on real photos and real models, through the real daemon and CLI.
/// Models and photos come from scripts/fetch-models and scripts/fetch-test-photos (scripts/test runs both).
@Suite(.serialized) struct FaceTests {
    static let models = absolute(ProcessInfo.processInfo.environment["OPTGATE_MODELS_DIR"] ?? ".build/models")
    static let photos = absolute(ProcessInfo.processInfo.environment["OPTGATE_TESTDATA_DIR"] ?? ".build/testdata")

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    func photo(_ name: String) throws -> String {
        let path = "\(Self.photos)/\(name)"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run scripts/fetch-test-photos")
        return path
    }

    /// An MJPEG clip of the photos, each letterboxed to 640×480, built by the project's own tool.
    func clip(_ gate: Gate, _ name: String, repeat count: Int = 1, _ photos: [String]) throws -> String {
        let path = "\(gate.directory)-\(name).mjpeg"
        let made = Gate.execute("\(Binaries.directory)/make-replay", [path, "--repeat", String(count)] + photos)
        try #require(made.succeeded, "\(made.stderr)")
        return path
    }

    /// The replays are still photos, which no liveness policy may pass: these tests are about matching, so
    /// they run with `none` (acknowledged); `LivenessTests` and `LivenessDaemonTests` drive the policies.
    func faceConfig(replay: String, fps: Int = 10, cooldown: Double = 2, extra: String = "") -> String {
        """
        {"doors": [{"name": "main", "methods": ["face", "card", "pin"]}],
         "face": {"modelsDirectory": "\(Self.models)", "cooldownSeconds": \(cooldown), "liveness": "none", "noLivenessAcknowledged": true,
                  "source": {"replay": "\(replay)", "fps": \(fps), "loop": true}\(extra)}}
        """
    }

    /// A resident with consent and a face enrolled from `photos`.
    func enrolled(_ gate: Gate, name: String, card: String? = nil, photos: [String], config: String? = nil) throws -> String {
        let id = try gate.resident(name: name, card: card)
        try #require(gate.run(["consent", "grant", id, "--notice-version", "1", "--method", "kiosk"]).succeeded)
        var arguments = ["face", "enroll", id, "--models", Self.models] + photos.flatMap { ["--image", $0] }
        if let config { arguments += ["--config", config] }
        let enrol = gate.run(arguments)
        try #require(enrol.succeeded, "\(enrol.stderr)")
        return id
    }

    @Test func enrolmentRefusesWithoutConsentAndForNoFaceOrSeveralFaces() throws {
        let gate = Gate()
        let id = try gate.resident(name: "No Consent")
        let obama = try photo("obama.jpg")
        let refused = gate.run(["face", "enroll", id, "--models", Self.models, "--image", obama])
        #expect(refused.status == 1 && refused.stderr.contains("no active face-recognition consent"))

        #expect(gate.run(["consent", "grant", id, "--notice-version", "1"]).succeeded)
        let blank = "\(gate.directory)-blank.jpg"
        var image = BGRImage(width: 320, height: 240)
        for y in 0..<240 { for x in 0..<320 { image[x, y] = (UInt8(x % 256), UInt8(y), 128) } }
        try Data(try JPEGEncoder().encode(image)).write(to: URL(fileURLWithPath: blank))
        let noFace = gate.run(["face", "enroll", id, "--models", Self.models, "--image", blank])
        #expect(noFace.status == 1 && noFace.stderr.contains("no face was found"), "\(noFace.stderr)")
        let group = gate.run(["face", "enroll", id, "--models", Self.models, "--image", try photo("t1.jpg")])
        #expect(group.status == 1 && group.stderr.contains("6 faces were found"), "\(group.stderr)")
        let mixed = gate.run(["face", "enroll", id, "--models", Self.models, "--image", obama, "--image", try photo("biden.jpg")])
        #expect(mixed.status == 1 && mixed.stderr.contains("do not show the same person"), "\(mixed.stderr)")
        #expect(try gate.status(offline: true).faceTemplates == 0, "nothing was stored by refused enrolments")

        #expect(gate.run(["face", "enroll", id, "--models", Self.models, "--image", obama]).succeeded)
        let other = try gate.resident(name: "Impostor")
        #expect(gate.run(["consent", "grant", other, "--notice-version", "1"]).succeeded)
        let duplicate = gate.run(["face", "enroll", other, "--models", Self.models, "--image", try photo("obama2.jpg")])
        #expect(duplicate.status == 1 && duplicate.stderr.contains("already matches resident \(id)"), "\(duplicate.stderr)")
    }

    @Test func theEnrolledResidentIsGrantedAStrangerIsNoMatchAndWithdrawalStopsMatchingAtOnce() throws {
        let gate = Gate()
        let id = try enrolled(gate, name: "Obama", card: "04A1B2C3D4", photos: [try photo("obama.jpg"), try photo("obama2.jpg")])
        let replay = try clip(gate, "mixed", repeat: 10, [try photo("obama3.jpg"), try photo("biden.jpg")])
        try gate.start(config: faceConfig(replay: replay, cooldown: 0.5))
        #expect(gate.eventually(within: 20) {
            let events = (try? gate.events()) ?? []
            return events.contains { $0.method == "face" && $0.result == "granted" && $0.resident == id }
                && events.contains { $0.method == "face" && $0.reason == "noMatch" }
        }, "obama3.jpg (not enrolled itself) is granted as Obama; Biden is no match")
        let stranger = try gate.events().first { $0.reason == "noMatch" }
        #expect(stranger?.resident == nil && stranger?.result == "denied")
        #expect(gate.daemonOutput.contains("face: no match"))

        #expect(gate.run(["consent", "withdraw", id]).succeeded)
        let withdrawnAt = Date()
        let before = try gate.events().count
        usleep(1_000_000)
        let settled = try gate.events().count
        usleep(4_000_000)
        let after = try gate.events().dropFirst(settled)
        #expect(after.contains { $0.method == "face" && $0.reason == "noMatch" }, "Obama's face is now no match")
        #expect(!after.contains { $0.method == "face" && $0.result == "granted" }, "no face grant more than 1 s after withdrawal")
        #expect(Date().timeIntervalSince(withdrawnAt) > 4 && settled >= before)
        #expect(gate.simulate("card", "--uid", "04A1B2C3D4") == "granted (valid) resident \(id)", "the card keeps working")
        let status = try gate.status()
        #expect(status.face.templates == 0 && status.face.state == .on)
        gate.stop()
        #expect(try sqlite(gate.databasePath, "SELECT count(*) FROM faceTemplate") == "0")
    }

    @Test func aThousandStrangerFramesLeaveNoFileAndOnlyNoMatchEvents() throws {
        let gate = Gate()
        let replay = try clip(gate, "strangers", [try photo("biden.jpg"), try photo("obama.jpg"), try photo("obama2.jpg")])
        // The daemon's own temporary directory (TMPDIR), so that other processes on the machine do not count.
        let temporary = "\(gate.directory)-tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        try gate.start(config: faceConfig(replay: replay, fps: 1000, cooldown: 3), environment: ["TMPDIR": temporary])
        let stateBefore = try files(under: gate.directory)
        #expect(gate.eventually(within: 240) { ((try? gate.status().face.framesProcessed) ?? 0) >= 1000 })
        let face = try gate.status().face
        #expect(face.facesAnalysed >= 900, "faces were really analysed: \(face.facesAnalysed)")
        #expect(try files(under: gate.directory) == stateBefore, "the state directory gained no file")
        #expect(try files(under: temporary).isEmpty, "the temporary directory gained no file")
        gate.stop()
        let events = try gate.events()
        #expect(!events.isEmpty && events.allSatisfy { $0.method == "face" && $0.reason == "noMatch" && $0.resident == nil })
        #expect(events.count < 200, "one no-match per presence and cooldown, not per frame: \(events.count)")
        let categories = try sqlite(gate.databasePath, "SELECT group_concat(DISTINCT category || ':' || action) FROM auditEntry ORDER BY 1")
        #expect(Set(categories.split(separator: ",")) == ["system:daemon.start", "access:access.face", "system:daemon.stop"])
        #expect(try sqlite(gate.databasePath, "SELECT count(*) FROM faceTemplate") == "0")
    }

    @Test func aConfigDescribedNetworkEmbedderWorksEndToEnd() throws {
        let gate = Gate()
        let network = #", "embedder": "dnn", "dnn": {"id": "facenet-casia-512", "model": "graph_final.pb", "inputWidth": 160, "inputHeight": 160, "standardize": true, "dimension": 512, "metric": "cosine", "threshold": 0.5, "alignmentZoom": 0.8}"#
        let replay = try clip(gate, "mixed", repeat: 10, [try photo("obama2.jpg"), try photo("biden.jpg")])
        let config = faceConfig(replay: replay, cooldown: 0.5, extra: network)
        let path = "\(gate.directory)-facenet.json"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let dlibOnly = try enrolled(gate, name: "Dlib Template", photos: [try photo("obama3.jpg")])
        let id = try enrolled(gate, name: "Obama", photos: [try photo("obama.jpg")], config: path)
        try gate.start(config: config)
        #expect(gate.eventually(within: 20) {
            let events = (try? gate.events()) ?? []
            return events.contains { $0.result == "granted" && $0.resident == id } && events.contains { $0.reason == "noMatch" }
        })
        #expect(!(try gate.events()).contains { $0.resident == dlibOnly }, "a dlib template never matches under FaceNet")
        let face = try gate.status().face
        #expect(face.embedder == "facenet-casia-512" && face.templates == 1 && face.needingReenrolment == 1)
        let compare = gate.run(["face", "compare", "--config", path, "--models", Self.models, try photo("obama.jpg"), try photo("obama2.jpg")])
        #expect(compare.stdout.contains("facenet-casia-512") && compare.stdout.contains("same person"), "\(compare.stdout)")
    }

    @Test func missingOrCorruptModelsLeaveCardAndPinWorking() throws {
        let gate = Gate()
        let broken = "\(gate.directory)-models"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let original = try Data(contentsOf: URL(fileURLWithPath: "\(Self.models)/centerface.onnx"))
        try original.prefix(original.count / 3).write(to: URL(fileURLWithPath: "\(broken)/centerface.onnx"))
        _ = try gate.resident(card: "04A1B2C3", pin: "975310")
        let replay = try clip(gate, "one", [try photo("obama.jpg")])
        try gate.start(config: faceConfig(replay: replay).replacingOccurrences(of: Self.models, with: broken))
        let face = try gate.status().face
        #expect(face.state.rawValue.hasPrefix("disabled:") && face.state.rawValue.contains("centerface.onnx"), "\(face.state)")
        #expect(gate.daemonOutput.contains("face entry disabled"))
        #expect(gate.simulate("card", "--uid", "04A1B2C3").hasPrefix("granted"))
        #expect(gate.simulate("pin", "975310").hasPrefix("granted"))
    }

    @Test func badFramesAreSkippedNeverACrash() throws {
        let gate = Gate()
        let frames = "\(gate.directory)-frames"
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: frames) }
        let good = try Data(contentsOf: URL(fileURLWithPath: try photo("biden.jpg")))
        try Data().write(to: URL(fileURLWithPath: "\(frames)/1-empty.jpg"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: "\(frames)/2-truncated.jpg"))
        var huge = Array(good)
        if let sof = (0..<huge.count - 9).first(where: { huge[$0] == 0xFF && (0xC0...0xC2).contains(huge[$0 + 1]) }) {
            huge[sof + 5] = 0x27; huge[sof + 6] = 0x10; huge[sof + 7] = 0x27; huge[sof + 8] = 0x10   // 10000 x 10000
        }
        try Data(huge).write(to: URL(fileURLWithPath: "\(frames)/3-huge.jpg"))
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: "\(frames)/4-garbage.jpg"))
        try good.write(to: URL(fileURLWithPath: "\(frames)/5-good.jpg"))
        _ = try gate.resident(card: "04A1B2C3")
        try gate.start(config: faceConfig(replay: frames, fps: 20))
        #expect(gate.eventually(within: 15) { ((try? gate.status().face.framesSkipped) ?? 0) >= 8 })
        let face = try gate.status().face
        #expect(face.framesProcessed >= 2, "the good frame is still analysed")
        #expect(gate.daemon?.isRunning == true)
        #expect(gate.simulate("card", "--uid", "04A1B2C3").hasPrefix("granted"))
    }

    @Test func scoreWritesACSVOfPairsAtTheThreshold() throws {
        let gate = Gate()
        let pairs = "\(gate.directory)-pairs.csv"
        try """
        \(try photo("obama.jpg")),\(try photo("obama2.jpg"))
        \(try photo("obama.jpg")),\(try photo("biden.jpg"))
        """.write(toFile: pairs, atomically: true, encoding: .utf8)
        let score = gate.run(["face", "score", "--models", Self.models, "--pairs", pairs])
        #expect(score.succeeded, "\(score.stderr)")
        let lines = score.stdout.split(separator: "\n")
        #expect(lines.first == "pathA,pathB,distance,match")
        #expect(lines.dropFirst().map { $0.split(separator: ",").last! } == ["yes", "no"])
    }

    func files(under path: String) throws -> Set<String> {
        Set((FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? [])
    }

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let result = Gate.execute("/usr/bin/sqlite3", [path, sql])
        try #require(result.succeeded, "sqlite3: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension Gate {
    struct OfflineCounts { var faceTemplates: Int }

    /// Counts read from the store with the daemon stopped (`resident list --json`).
    func status(offline: Bool) throws -> OfflineCounts {
        struct Row: Decodable { var faceTemplates: Int }
        let rows = try JSONDecoder().decode([Row].self, from: Data(run(["resident", "list", "--json"]).stdout.utf8))
        return OfflineCounts(faceTemplates: rows.map(\.faceTemplates).reduce(0, +))
    }
}
