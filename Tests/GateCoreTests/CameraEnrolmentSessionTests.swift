import GateCore
import Testing

@Suite struct CameraEnrolmentSessionTests {
    func armed(frames: Int = 2) -> CameraEnrolmentSession<T> {
        CameraEnrolmentSession(residentID: "r1", door: "main", frames: frames, armedAt: .at(0),
                               credentialWindow: .seconds(60), captureWindow: .seconds(20))
    }

    @Test func nothingIsCapturedBeforeTheResidentsOwnCredentialAtThatDoor() {
        var session = armed()
        #expect(session.frame(usableFaces: 1, at: .at(1)) == .ignore, "frames go to matching while waiting")
        #expect(session.credentialGranted(residentID: "r2", door: "main", at: .at(2)) == false, "another resident's card")
        #expect(session.credentialGranted(residentID: "r1", door: "side", at: .at(3)) == false, "the resident's card at another door")
        #expect(session.frame(usableFaces: 1, at: .at(4)) == .ignore)
        #expect(session.tick(at: .at(60)) == nil)
        #expect(session.tick(at: .at(60.1)) == .refused(.noCredential(door: "main", window: .seconds(60))))
        #expect(session.credentialGranted(residentID: "r1", door: "main", at: .at(61)) == false, "too late: the session ended")
        #expect(!session.isCapturing)
    }

    @Test func theResidentsCredentialStartsCaptureAndSameFacesEnrol() {
        var session = armed(frames: 2)
        #expect(session.credentialGranted(residentID: "r1", door: "main", at: .at(10)) == true)
        #expect(session.isCapturing)
        #expect(session.frame(usableFaces: 0, at: .at(11)) == .skip)
        #expect(session.frame(usableFaces: 1, at: .at(12)) == .embed)
        #expect(session.embedded(refusal: nil) == nil)
        #expect(session.frame(usableFaces: 1, at: .at(13)) == .embed)
        #expect(session.embedded(refusal: nil) == .enrolled(frames: 2))
        #expect(session.frame(usableFaces: 1, at: .at(14)) == .ignore, "matching resumes")
    }

    @Test func aSecondFaceOrAnotherPersonEndsTheSessionAtOnce() {
        var crowded = armed(frames: 3)
        _ = crowded.credentialGranted(residentID: "r1", door: "main", at: .at(1))
        #expect(crowded.frame(usableFaces: 1, at: .at(2)) == .embed)
        #expect(crowded.embedded(refusal: nil) == nil)
        #expect(crowded.frame(usableFaces: 2, at: .at(3)) == .finished(.refused(.severalFaces(count: 2))))
        #expect(crowded.embedded(refusal: nil) == nil, "nothing more is accepted")

        var swapped = armed(frames: 3)
        _ = swapped.credentialGranted(residentID: "r1", door: "main", at: .at(1))
        #expect(swapped.frame(usableFaces: 1, at: .at(2)) == .embed)
        #expect(swapped.embedded(refusal: .differentPerson) == .refused(.differentPerson))
        #expect(swapped.outcome == .refused(.differentPerson))
    }

    @Test func captureHasItsOwnDeadline() {
        var session = armed()
        _ = session.credentialGranted(residentID: "r1", door: "main", at: .at(50))
        #expect(session.frame(usableFaces: 0, at: .at(69)) == .skip, "the credential window no longer applies")
        #expect(session.frame(usableFaces: 1, at: .at(70.5)) == .finished(.refused(.noFace(window: .seconds(20)))))
    }
}

@Suite struct ConsentScopeTests {
    @Test func aScopeCoversItsDoorsOrEveryDoor() {
        #expect(ConsentScope("*").covers(door: "main"))
        #expect(ConsentScope("side").covers(door: "side") && !ConsentScope("side").covers(door: "main"))
        #expect(ConsentScope(" main , side ").doors == ["main", "side"])
    }

    @Test func scopesNamingNoDoorOrAnUnknownDoorAreRefused() {
        let doors = ["main", "side"]
        #expect(ConsentScope("main,side").problem(knownDoors: doors) == nil)
        #expect(ConsentScope("*").problem(knownDoors: doors) == nil)
        #expect(ConsentScope("garage").problem(knownDoors: doors)?.contains("no door is named \"garage\"") == true)
        #expect(ConsentScope("*,main").problem(knownDoors: doors) != nil)
        #expect(ConsentScope("main,").problem(knownDoors: doors) != nil)
    }
}
