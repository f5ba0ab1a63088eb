import GateCore
import Testing

@Suite struct DoorStateMachineTests {
    var door = DoorStateMachine<T>(timings: DoorTimings(pulse: .seconds(3), heldOpen: .seconds(30)))

    @Test mutating func grantReleasesForOnePulseThenLocks() {
        let r7 = door.release(at: .at(0))
        #expect(r7 == [.unlock])
        #expect(door.isUnlocked)
        #expect(door.nextDeadline == .at(3))
        let r10 = door.tick(at: .at(2.9))
        #expect(r10 == [])
        let r11 = door.tick(at: .at(3))
        #expect(r11 == [.lock])
        #expect(!door.isUnlocked)
        #expect(door.nextDeadline == nil)
    }

    @Test mutating func secondGrantExtendsThePulseWithoutSecondUnlock() {
        _ = door.release(at: .at(0))
        let r18 = door.release(at: .at(2))
        #expect(r18 == [])
        let r19 = door.tick(at: .at(3))
        #expect(r19 == [])
        let r20 = door.tick(at: .at(5))
        #expect(r20 == [.lock])
    }

    @Test mutating func openingWhileLockedIsForcedOpen() {
        let r24 = door.contact(open: true, at: .at(1))
        #expect(r24 == [.raise(.forcedOpen)])
        #expect(door.activeAlarms == [.forcedOpen])
        let r26 = door.contact(open: false, at: .at(2))
        #expect(r26 == [.clear(.forcedOpen)])
        #expect(door.activeAlarms.isEmpty)
    }

    @Test mutating func openingDuringAPulseIsAuthorised() {
        _ = door.release(at: .at(0))
        let r32 = door.contact(open: true, at: .at(1))
        #expect(r32 == [])
        let r33 = door.tick(at: .at(3))
        #expect(r33 == [.lock])
        let r34 = door.contact(open: false, at: .at(4))
        #expect(r34 == [])
    }

    @Test mutating func heldOpenAlarmIsRaisedOnceAndClearedOnClose() {
        _ = door.release(at: .at(0))
        _ = door.contact(open: true, at: .at(1))
        _ = door.tick(at: .at(3))
        #expect(door.nextDeadline == .at(31))
        let r42 = door.tick(at: .at(30.9))
        #expect(r42 == [])
        let r43 = door.tick(at: .at(31))
        #expect(r43 == [.raise(.heldOpen)])
        let r44 = door.tick(at: .at(40))
        #expect(r44 == [])
        #expect(door.nextDeadline == nil)
        let r46 = door.contact(open: false, at: .at(41))
        #expect(r46 == [.clear(.heldOpen)])
    }

    @Test mutating func fireReleasesAndOverridesEverythingUntilCleared() {
        #expect(door.fire(active: true, at: .at(0)) == [.raise(.fire), .unlock])
        let r51 = door.release(at: .at(1))
        #expect(r51 == [])
        let r52 = door.contact(open: true, at: .at(2))
        #expect(r52 == [])
        let r53 = door.tick(at: .at(100))
        #expect(r53 == [], "no re-lock and no held-open alarm during a fire")
        #expect(door.isUnlocked)
        #expect(door.fire(active: false, at: .at(120)) == [.clear(.fire), .lock])
        #expect(door.nextDeadline == .at(150), "the held-open clock starts when the fire clears")
    }

    @Test mutating func fireDuringAPulseKeepsTheDoorReleasedAfterThePulse() {
        _ = door.release(at: .at(0))
        let r61 = door.fire(active: true, at: .at(1))
        #expect(r61 == [.raise(.fire)])
        let r62 = door.tick(at: .at(5))
        #expect(r62 == [])
        #expect(door.isUnlocked)
    }

    @Test mutating func tamperRaisesAnAlarm() {
        let r67 = door.tamper(at: .at(0))
        #expect(r67 == [.raise(.tamper)])
        #expect(door.activeAlarms.contains(.tamper))
    }
}
