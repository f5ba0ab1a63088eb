import GateCore
import Testing

/// The visitor path of the gate machine (docs/visitors.md), with a test clock and the store's answers scripted.
@Suite struct GateMachineVisitorTests {
    struct Rig {
        var machine: GateMachine<T>
        var effects: [GateEffect<T>] = []
        var request: UInt64 = 0
        let wall = WallTime(millisecondsSince1970: 1_800_000_000_000)

        init(keypad: KeypadMode = .pin, visitorQR: Bool = true, lockoutFailures: Int = 5) {
            machine = GateMachine(settings: GateSettings(
                doors: [GateDoorSettings(name: "main", methods: [.card, .pin], visitorQR: visitorQR)],
                pinEntry: PinEntryRules(minimumDigits: 6, maximumDigits: 8, mode: keypad),
                lockout: LockoutRules(failures: lockoutFailures)))
        }

        @discardableResult
        mutating func send(_ event: GateEvent) -> [GateEffect<T>] {
            let out = machine.handle(event, now: .at(0), wall: wall)
            effects += out
            return out
        }

        /// Types `keys` (digits, `#`) on the keypad. - Returns: the effects of the last key.
        @discardableResult
        mutating func type(_ keys: String) -> [GateEffect<T>] {
            var last: [GateEffect<T>] = []
            for key in keys {
                request += 1
                last = send(.input(.key(door: "main", KeypadKey(character: key)!, keypad: "kp"), request: RequestID(request)))
            }
            return last
        }

        static func lookUps(_ effects: [GateEffect<T>]) -> [(LookupID, CredentialQuery)] {
            effects.compactMap { if case .lookUp(let id, let query) = $0 { (id, query) } else { nil } }
        }

        static func decision(_ effects: [GateEffect<T>]) -> AccessDecision? {
            for case .reply(_, .done(_, let decision?)) in effects { return decision }
            return nil
        }

        static func released(_ effects: [GateEffect<T>]) -> Bool {
            effects.contains { if case .setLock("main", true) = $0 { true } else { false } }
        }

        var audits: [AuditIntent] { effects.compactMap { if case .audit(let intent) = $0 { intent } else { nil } } }
    }

    let pass = "v0123456789ab"

    @Test func aPassCodeIsChargedLikeAPinThenOpensAndIsRefunded() throws {
        var rig = Rig()
        let asked = rig.type("12345678#")
        let saveAt = try #require(asked.firstIndex { if case .saveGuessCounters = $0 { true } else { false } })
        let lookupAt = try #require(asked.firstIndex { if case .lookUp = $0 { true } else { false } })
        #expect(saveAt < lookupAt, "the charge is durable before the lookup")
        let (id, query) = try #require(Rig.lookUps(asked).first)
        #expect(query == .visitorCode(PIN("12345678")!, door: "main"))
        let answered = rig.send(.lookedUp(id, .visitor(VisitorPassDecision(passID: pass, refusal: nil))))
        #expect(Rig.decision(answered) == AccessDecision(result: .granted, reason: .valid))
        #expect(Rig.released(answered))
        let entry = try #require(rig.audits.last)
        #expect(entry.method == .visitor && entry.residentID == nil && entry.detail == ["pass": pass])
        #expect(rig.machine.guesses.counter(.keypad(door: "main", name: "kp")).failures.isEmpty, "a pass's code was no guess")
    }

    @Test func onAPinOnlyKeypadACodeNobodyHoldsIsCheckedAsAPin() throws {
        var rig = Rig()
        let (visitorID, _) = try #require(Rig.lookUps(rig.type("87654321#")).first)
        let next = rig.send(.lookedUp(visitorID, .visitor(nil)))
        let (_, query) = try #require(Rig.lookUps(next).first)
        #expect(query == .pin(PIN("87654321")!, unit: nil))
        #expect(Rig.decision(next) == nil, "still waiting for the PIN check")
        // A six-digit PIN is never looked up as a visitor code.
        var other = Rig()
        #expect(Rig.lookUps(other.type("482916#")).map(\.1) == [.pin(PIN("482916")!, unit: nil)])
    }

    @Test func onUnitPinKeypadsTheReservedUnitIsOnlyEverAVisitorCodeAndAWrongOneCountsAsAWrongPin() throws {
        var rig = Rig(keypad: .unitPin, lockoutFailures: 2)
        for attempt in 1...2 {
            let (id, query) = try #require(Rig.lookUps(rig.type("0#11112222#")).first)
            #expect(query == .visitorCode(PIN("11112222")!, door: "main"))
            let answered = rig.send(.lookedUp(id, .visitor(nil)))
            #expect(Rig.decision(answered) == AccessDecision(result: .denied, reason: .unknownPin), "attempt \(attempt)")
            #expect(Rig.lookUps(answered).isEmpty, "never checked as a household's PIN")
        }
        let locked = rig.type("0#12345678#")
        #expect(Rig.lookUps(locked).isEmpty && Rig.decision(locked)?.reason == .lockedOut)
        // Another unit is a PIN as before.
        var household = Rig(keypad: .unitPin)
        #expect(Rig.lookUps(household.type("31501#12345678#")).map(\.1) == [.pin(PIN("12345678")!, unit: "31501")])
    }

    @Test func aQRCodeIsLookedUpOnlyWhereTheDoorReadsThemAndEachRefusalIsRecorded() throws {
        var rig = Rig()
        let asked = rig.send(.input(.visitorQR(door: "main", payload: "OGV1.x"), request: RequestID(1)))
        let (id, query) = try #require(Rig.lookUps(asked).first)
        #expect(query == .visitorQR("OGV1.x", door: "main"))
        let used = rig.send(.lookedUp(id, .visitor(VisitorPassDecision(passID: pass, refusal: .passUsedUp))))
        #expect(Rig.decision(used) == AccessDecision(result: .denied, reason: .passUsedUp) && !Rig.released(used))
        let (forged, _) = try #require(Rig.lookUps(rig.send(.input(.visitorQR(door: "main", payload: "junk"), request: RequestID(2)))).first)
        #expect(Rig.decision(rig.send(.lookedUp(forged, .visitor(VisitorPassDecision(passID: nil, refusal: .unknownCard)))))?.reason == .unknownCard)

        var closed = Rig(visitorQR: false)
        let refused = closed.send(.input(.visitorQR(door: "main", payload: "OGV1.x"), request: RequestID(1)))
        #expect(Rig.lookUps(refused).isEmpty && Rig.decision(refused)?.reason == .methodDisabled)
    }

    @Test func lockdownRefusesAPassBeforeAnyUseIsSpent() {
        var rig = Rig()
        rig.send(.input(.lockdown(door: "main", active: true), request: nil))
        let refused = rig.send(.input(.visitorQR(door: "main", payload: "OGV1.x"), request: RequestID(1)))
        #expect(Rig.lookUps(refused).isEmpty && Rig.decision(refused)?.reason == .lockedDown)
    }
}
