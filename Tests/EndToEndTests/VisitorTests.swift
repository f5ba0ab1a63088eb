import FaceVision
import Foundation
import GateControl
import Testing

/// Visitor passes end to end (docs/visitors.md): the one-off keypad code, revocation, and the signed QR code
/// read by the gate camera from a real QR image made by an independent encoder (Debian's `qrencode`).
@Suite(.serialized) struct VisitorTests {
    static let qrencode = "/usr/bin/qrencode"

    struct Issued: Decodable {
        var id: String
        var code: String
        var qr: String
        var validUntil: String
        var uses: Int
    }

    func issue(_ gate: Gate, _ arguments: String...) throws -> Issued {
        let result = gate.run(["visitor", "issue"] + arguments + ["--json"])
        try #require(result.succeeded, "\(result.stderr)")
        return try JSONDecoder().decode(Issued.self, from: Data(result.stdout.utf8))
    }

    /// Two simulated doors, both reading visitor QR codes; `extra` goes into the top-level object.
    func config(_ extra: String = "") -> String {
        """
        {"doors": [{"name": "main", "visitorQR": true}, {"name": "garage", "visitorQR": true}]\(extra)}
        """
    }

    /// A QR code PNG of `text` made by qrencode, not by optgate's own encoder.
    func qrencodePNG(_ gate: Gate, _ name: String, _ text: String) throws -> String {
        try #require(FileManager.default.isExecutableFile(atPath: Self.qrencode), "qrencode is missing: run scripts/install-deps")
        let path = "\(gate.directory)-\(name).png"
        let made = Gate.execute(Self.qrencode, ["-o", path, "-s", "6", "-m", "4", text])
        try #require(made.succeeded, "\(made.stderr)")
        return path
    }

    @Test func aVisitorCodeWorksItsUsesThenIsUsedUpAndEventsSayVisitor() throws {
        let gate = Gate()
        try gate.start(config: config())
        let pass = try issue(gate, "--door", "main", "--valid-for", "2h", "--uses", "2", "--name", "Courier")
        #expect(pass.code.count >= 8 && pass.uses == 2 && pass.id.hasPrefix("v"))
        #expect(gate.simulate("pin", pass.code) == "granted (valid)")
        #expect(gate.simulate("pin", pass.code) == "granted (valid)")
        #expect(gate.simulate("pin", pass.code) == "denied (passUsedUp)")
        let visitor = try gate.events().filter { $0.method == "visitor" }
        #expect(visitor.map(\.reason) == ["valid", "valid", "passUsedUp"] && visitor.allSatisfy { $0.resident == nil })
        let listed = gate.run(["visitor", "list", "--json"])
        #expect(listed.succeeded && listed.stdout.contains("\"usesLeft\" : 0") && !listed.stdout.contains(pass.code), "list never shows the code")
        #expect(!gate.daemonOutput.contains(pass.code), "the code never reaches the journal")
    }

    @Test func onUnitPinKeypadsTheVisitorTypesTheReservedUnitAndWrongCodesCountAsWrongPINs() throws {
        let gate = Gate()
        try gate.start(config: config(#", "keypad": {"mode": "unitPin", "lockoutFailures": 3}"#))
        let pass = try issue(gate, "--door", "main", "--valid-for", "1h")
        let wrong = pass.code.first == "1" ? "2" + pass.code.dropFirst() : "1" + pass.code.dropFirst()
        #expect(gate.simulate("pin", "--unit", "0", wrong) == "denied (unknownPin)")
        #expect(gate.simulate("pin", "--unit", "0", wrong) == "denied (unknownPin)")
        #expect(gate.simulate("pin", "--unit", "0", wrong) == "denied (unknownPin)")
        #expect(gate.simulate("pin", "--unit", "0", pass.code) == "denied (lockedOut)", "three wrong visitor codes lock the keypad like PINs")
        #expect(try gate.status().doors.first { $0.name == "main" }?.keypadLockedOut == true)
        // The other door's keypad is not locked: the right code opens there only if the pass names it.
        #expect(gate.simulate("pin", "--door", "garage", "--unit", "0", pass.code) == "denied (notInGroup)")
    }

    @Test func aRevokedPassIsRefusedWithinASecond() throws {
        let gate = Gate()
        try gate.start(config: config())
        let pass = try issue(gate, "--door", "main", "--valid-for", "1h", "--uses", "5")
        #expect(gate.simulate("pin", pass.code) == "granted (valid)")
        #expect(gate.run(["visitor", "revoke", pass.id]).succeeded)
        let revokedAt = Date()
        #expect(gate.simulate("pin", pass.code) == "denied (passRevoked)")
        #expect(gate.simulate("qr", "--payload", pass.qr) == "denied (passRevoked)")
        #expect(Date().timeIntervalSince(revokedAt) < 1)
        let audit = gate.run(["audit", "list"]).stdout
        #expect(audit.contains("visitor.issue") && audit.contains("visitor.revoke"))
    }

    @Test func aQRImageFromQrencodeOpensAnEditedOrExpiredOneDoesNotAndAWrongDoorIsRefused() throws {
        let gate = Gate()
        try gate.start(config: config())
        let pass = try issue(gate, "--door", "main", "--valid-for", "1h", "--uses", "3")
        let image = try qrencodePNG(gate, "good", pass.qr)
        #expect(gate.simulate("qr", image) == "granted (valid)", "decoded with optgate's reader from qrencode's PNG")
        #expect(gate.simulate("qr", image, "--door", "garage") == "denied (notInGroup)")

        var fields = pass.qr.split(separator: ".").map(String.init)
        fields[2] = String(Int64(fields[2])! + 86_400_000)
        let edited = try qrencodePNG(gate, "edited", fields.joined(separator: "."))
        #expect(gate.simulate("qr", edited) == "denied (unknownCard)", "a longer expiry written into the payload breaks the signature")

        let short = try issue(gate, "--door", "main", "--valid-for", "1s")
        let expired = try qrencodePNG(gate, "expired", short.qr)
        usleep(1_300_000)
        #expect(gate.simulate("qr", expired) == "denied (expired)")
        #expect(gate.simulate("pin", short.code) == "denied (expired)")
    }

    @Test func theOptgateQRFileOpensThroughSimulateQR() throws {
        let gate = Gate()
        try gate.start(config: config())
        let file = "\(gate.directory)-pass.png"
        let issued = gate.run(["visitor", "issue", "--door", "main", "--valid-for", "30m", "--qr", file])
        #expect(issued.succeeded && FileManager.default.fileExists(atPath: file), "\(issued.stderr)")
        #expect(gate.simulate("qr", file) == "granted (valid)")
        #expect(gate.simulate("qr", file) == "denied (passUsedUp)")
    }

    // MARK: The gate camera (replay source), with the face models loaded as on a real camera door.

    /// An MJPEG clip of `count` 640x480 frames: `png` on the right; with `face`, that photo on the left (the
    /// visitor holding the phone up, face in view).
    func clip(_ gate: Gate, _ name: String, of png: String, face: String? = nil, frames count: Int) throws -> String {
        var image = BGRImage(width: 640, height: 480)
        if let face {
            let photo = try JPEGDecoder().decode(Array(try Data(contentsOf: URL(fileURLWithPath: face)))).letterboxed(width: 400, height: 480).image
            for y in 0..<480 { for x in 0..<400 { image[x, y] = photo[x, y] } }
        }
        let code = try QRCodeImage.readPNG(png).letterboxed(width: 240, height: 240).image
        for y in 0..<240 { for x in 0..<240 { image[400 + x, 120 + y] = code[x, y] } }
        let frame = try JPEGEncoder().encode(image, quality: 90)
        var clip = Data()
        for _ in 0..<count { clip.append(contentsOf: frame) }
        let path = "\(gate.directory)-\(name).mjpeg"
        try clip.write(to: URL(fileURLWithPath: path))
        return path
    }

    func cameraConfig(replay: String) -> String {
        """
        {"doors": [{"name": "main", "methods": ["face", "card", "pin"], "visitorQR": true}],
         "face": {"modelsDirectory": "\(FaceTests.models)", "source": {"replay": "\(replay)", "fps": 10, "loop": true}}}
        """
    }

    @Test func aQRPassShownToTheReplayCameraOpensOnceWhileInViewAndLeavesNoFaceEvent() throws {
        let gate = Gate()
        let pass = try issue(gate, "--door", "main", "--valid-for", "1h", "--uses", "2")
        // The visitor's face is in every frame beside the code: a stranger's face, which would be a noMatch event if analysed.
        let replay = try clip(gate, "good", of: try qrencodePNG(gate, "camera", pass.qr), face: "\(FaceTests.photos)/biden.jpg", frames: 20)
        try gate.start(config: cameraConfig(replay: replay))
        #expect(gate.eventually(within: 30) {
            ((try? gate.events()) ?? []).contains { $0.method == "visitor" && $0.result == "granted" }
        }, "the camera read the QR code and the door opened: \(gate.daemonOutput.suffix(2000))")
        usleep(3_000_000)
        let events = try gate.events()
        #expect(events.filter { $0.method == "visitor" }.count == 1, "one presentation while the code stays in view")
        #expect(!events.contains { $0.method == "face" }, "a frame with a QR code goes to no face analysis")
        #expect(try gate.status().face.facesAnalysed == 0)
        gate.stop()
        let listed = gate.run(["visitor", "list", "--json"])
        #expect(listed.stdout.contains("\"usesLeft\" : 1"))
    }

    @Test func aDoorWithoutFaceEntryReadsQRCodesWithoutLoadingAFaceModel() throws {
        let gate = Gate()
        let pass = try issue(gate, "--door", "main", "--valid-for", "1h")
        let replay = try clip(gate, "qr-only", of: try qrencodePNG(gate, "qr-only", pass.qr), face: "\(FaceTests.photos)/biden.jpg", frames: 20)
        try gate.start(config: """
            {"doors": [{"name": "main", "visitorQR": true}],
             "face": {"modelsDirectory": "/nonexistent", "source": {"replay": "\(replay)", "fps": 10, "loop": true}}}
            """)
        #expect(gate.eventually(within: 30) {
            ((try? gate.events()) ?? []).contains { $0.method == "visitor" && $0.result == "granted" }
        }, "\(gate.daemonOutput.suffix(2000))")
        let status = try gate.status()
        #expect(status.face.state == .off && status.face.facesAnalysed == 0, "no face entry, no face model, no face analysed")
        #expect(!(try gate.events()).contains { $0.method == "face" })
    }

    @Test func anEditedQRShownToTheReplayCameraDoesNotOpen() throws {
        let gate = Gate()
        let pass = try issue(gate, "--door", "main", "--valid-for", "1h")
        var fields = pass.qr.split(separator: ".").map(String.init)
        fields[1] = "v" + String(repeating: "0", count: 12)
        let replay = try clip(gate, "edited", of: try qrencodePNG(gate, "camera-edited", fields.joined(separator: ".")), frames: 20)
        try gate.start(config: cameraConfig(replay: replay))
        #expect(gate.eventually(within: 30) {
            ((try? gate.events()) ?? []).contains { $0.method == "visitor" && $0.reason == "unknownCard" }
        }, "\(gate.daemonOutput.suffix(2000))")
        #expect(!(try gate.events()).contains { $0.result == "granted" })
        let status = try gate.status()
        #expect(status.doors.first?.lock == .locked)
    }
}
