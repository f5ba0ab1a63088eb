import GateCore
import Testing

/// A gate machine driven by a test clock, with an in-memory directory that answers its lookups when the
/// test says so.
private struct Rig {
    var machine: GateMachine<T>
    var time = 0.0
    /// Residents by card bytes, PIN digits (and duress PIN digits), and whether they have a face.
    var cards: [[UInt8]: CredentialHolder] = [:]
    var pins: [String: CredentialHolder] = [:]
    var duressPins: [String: CredentialHolder] = [:]
    var faces: [String: CredentialHolder] = [:]
    /// Lookups asked for and not yet answered, oldest first.
    var lookups: [(LookupID, CredentialQuery)] = []
    /// Every effect so far, in order.
    var effects: [GateEffect<T>] = []
    var nextRequest: UInt64 = 0

    init(doors: [GateDoorSettings] = [GateDoorSettings(name: "main", methods: [.card, .pin, .face])], secondFactor: Duration = .seconds(10),
         keypad: KeypadMode = .pin) {
        machine = GateMachine(settings: GateSettings(doors: doors, pinEntry: PinEntryRules(minimumDigits: 6, mode: keypad),
                                                     secondFactor: secondFactor))
    }

    var now: T { .at(time) }
    var wall: WallTime { WallTime(millisecondsSince1970: 1_800_000_000_000 + Int64(time * 1000)) }

    @discardableResult
    mutating func send(_ event: GateEvent) -> [GateEffect<T>] {
        let out = machine.handle(event, now: now, wall: wall)
        effects += out
        for case .lookUp(let id, let query) in out { lookups.append((id, query)) }
        return out
    }

    @discardableResult
    mutating func input(_ input: DoorInput) -> [GateEffect<T>] {
        nextRequest += 1
        return send(.input(input, request: RequestID(nextRequest)))
    }

    /// Answers the oldest open lookup from the directory. - Returns: the effects of the answer.
    @discardableResult
    mutating func answer() -> [GateEffect<T>] {
        let (id, query) = lookups.removeFirst()
        let answer: LookupAnswer = switch query {
        case .card(let uid): .card(cards[uid.bytes])
        case .pin(let pin, _):
            if let holder = pins[pin.digits] { .pin(.one(holder)) } else if let holder = duressPins[pin.digits] {
                .pin(.one(holder, duress: true))
            } else { .pin(.none) }
        case .face(let resident, _): .face(faces[resident], inScope: true)
        case .visitorCode, .visitorQR: .visitor(nil)
        }
        return send(.lookedUp(id, answer))
    }

    /// Presents a card and answers its lookup at once. - Returns: the decision replied.
    mutating func card(_ bytes: [UInt8], door: String = "main") -> AccessDecision? {
        let asked = input(.card(door: door, CardUID(bytes: bytes)!))
        return lookups.isEmpty ? Self.decision(asked) : Self.decision(answer())
    }

    /// Types `digits#` on a keypad and answers the lookup. - Returns: the decision replied.
    mutating func pin(_ digits: String, door: String = "main") -> AccessDecision? {
        for digit in digits { send(.input(.key(door: door, KeypadKey(character: digit)!, keypad: "kp"), request: nil)) }
        let asked = input(.key(door: door, .submit, keypad: "kp"))
        return lookups.isEmpty ? Self.decision(asked) : Self.decision(answer())
    }

    mutating func advance(to seconds: Double) {
        time = seconds
        send(.tick)
    }

    static func decision(_ effects: [GateEffect<T>]) -> AccessDecision? {
        for case .reply(_, .done(_, let decision?)) in effects { return decision }
        return nil
    }

    static func released(_ effects: [GateEffect<T>], door: String = "main") -> Bool? {
        var level: Bool?
        for case .setLock(let name, let released) in effects where name == door { level = released }
        return level
    }

    var audits: [AuditIntent] { effects.compactMap { if case .audit(let intent) = $0 { intent } else { nil } } }
}

private let alice = CredentialHolder(residentID: "alice", validUntil: nil, hasFace: true)
private let bob = CredentialHolder(residentID: "bob", validUntil: nil)

@Suite struct GateMachineTests {
    @Test func aKnownCardReleasesTheDoorOnlyWhenItsLookupIsAnswered() {
        var rig = Rig()
        rig.cards[[1, 2, 3, 4]] = alice
        let asked = rig.input(.card(door: "main", CardUID(bytes: [1, 2, 3, 4])!))
        #expect(Rig.released(asked) == nil)
        #expect(rig.lookups.count == 1)
        let answered = rig.answer()
        #expect(Rig.released(answered) == true)
        #expect(Rig.decision(answered) == AccessDecision(result: .granted, reason: .valid, residentID: "alice"))
        #expect(answered.contains(.credentialGranted(residentID: "alice", door: "main", method: .card)))
        #expect(rig.audits.last?.action == .door(.access, .method(.card)))
        #expect(rig.audits.last?.detail["card"] == "0304")
        // The pulse ends on the timer the machine asked for.
        #expect(answered.contains(.wake(at: T.at(3))))
        rig.advance(to: 3)
        #expect(Rig.released(rig.effects) == false)
    }

    @Test func fireReleasesTheDoorWhileACardLookupIsOpen() {
        var rig = Rig()
        rig.cards[[9, 9, 9, 9]] = alice
        rig.input(.card(door: "main", CardUID(bytes: [9, 9, 9, 9])!))
        let fire = rig.input(.fire(door: nil, active: true))
        #expect(Rig.released(fire) == true)
        #expect(rig.machine.pendingLookups == 1)
        #expect(rig.audits.contains { $0.reason == .fireRelease })
        rig.answer()
        #expect(rig.machine.doors["main"]!.lock.lock == .fireReleased)
    }

    @Test func aPinIsChargedAndSavedBeforeItsLookupAndOnlyAResidentsPinIsRefunded() {
        var rig = Rig()
        rig.pins["135790"] = bob
        for digit in "246802" { rig.send(.input(.key(door: "main", KeypadKey(character: digit)!, keypad: "kp"), request: nil)) }
        let submitted = rig.input(.key(door: "main", .submit, keypad: "kp"))
        let save = submitted.firstIndex { if case .saveGuessCounters = $0 { true } else { false } }
        let lookup = submitted.firstIndex { if case .lookUp = $0 { true } else { false } }
        #expect(save != nil && lookup != nil && save! < lookup!)
        #expect(Rig.decision(rig.answer())?.reason == .unknownPin)
        #expect(rig.machine.guesses.counter(.keypad(door: "main", name: "kp")).failures.count == 1)
        #expect(rig.pin("135790") == AccessDecision(result: .granted, reason: .valid, residentID: "bob"))
        #expect(rig.machine.guesses.counter(.keypad(door: "main", name: "kp")).failures.count == 1)
    }

    @Test func pinsTypedDuringACheckWaitTheirTurn() {
        var rig = Rig()
        rig.pins["135790"] = bob
        for digits in ["111111", "135790"] {
            for digit in digits { rig.send(.input(.key(door: "main", KeypadKey(character: digit)!, keypad: "kp"), request: nil)) }
            rig.input(.key(door: "main", .submit, keypad: "kp"))
        }
        #expect(rig.lookups.count == 1)
        rig.answer()
        #expect(rig.lookups.count == 1)
        #expect(Rig.decision(rig.answer())?.isGranted == true)
        #expect(rig.machine.guesses.counter(.door("main")).failures.count == 1)
    }

    @Test func fiveWrongPinsLockTheKeypadAndRaiseTheAlarm() {
        var rig = Rig()
        for _ in 0..<5 { _ = rig.pin("999999") }
        #expect(rig.audits.contains { $0.reason == .keypadLockout && $0.result == .alarm })
        #expect(rig.pin("999999")?.reason == .lockedOut)
    }

    @Test func repeatedUnknownCardsCollapseIntoOneCountedEntry() {
        var rig = Rig()
        for _ in 0..<25 { _ = rig.card([7, 7, 7, 7]) }
        #expect(rig.audits.filter { $0.reason == .unknownCard }.count == 20)
        rig.time = 61
        rig.send(.maintenance)
        let collapsed = rig.audits.last
        #expect(collapsed?.action == .deniedCollapsed)
        #expect(collapsed?.detail["count"] == "5")
    }

    @Test func lockdownRefusesCardsAndRemoteOpenButFireStillReleases() {
        var rig = Rig()
        rig.cards[[1, 1, 1, 1]] = alice
        rig.input(.lockdown(door: "main", active: true))
        let card = rig.input(.card(door: "main", CardUID(bytes: [1, 1, 1, 1])!))
        #expect(Rig.decision(card)?.reason == .lockedDown)
        #expect(rig.lookups.isEmpty)
        #expect(Rig.decision(rig.input(.remoteOpen(door: "main", operator: "guard")))?.reason == .lockedDown)
        #expect(Rig.decision(rig.input(.exitRequest(door: "main")))?.isGranted == true)
        rig.advance(to: 5)
        #expect(Rig.released(rig.input(.fire(door: nil, active: true))) == true)
        rig.input(.fire(door: nil, active: false))
        rig.input(.lockdown(door: nil, active: false))
        #expect(rig.card([1, 1, 1, 1])?.isGranted == true)
    }

    @Test func lockdownDuringALookupRefusesItsAnswer() {
        var rig = Rig()
        rig.cards[[1, 1, 1, 1]] = alice
        rig.input(.card(door: "main", CardUID(bytes: [1, 1, 1, 1])!))
        rig.input(.lockdown(door: "main", active: true))
        let answered = rig.answer()
        #expect(Rig.decision(answered) == AccessDecision(result: .denied, reason: .lockedDown, residentID: "alice"))
        #expect(Rig.released(answered) == nil)
    }

    @Test func cardThenTheSameResidentsPinWithinTheTimeoutOpensACardPinDoor() {
        var rig = Rig(doors: [GateDoorSettings(name: "main", methods: [.card, .pin], verifyMode: .cardPin)])
        rig.cards[[2, 2, 2, 2]] = bob
        rig.pins["135790"] = bob
        rig.pins["246813"] = alice
        #expect(rig.card([2, 2, 2, 2]) == AccessDecision(result: .denied, reason: .secondFactorNeeded, residentID: "bob"))
        #expect(Rig.released(rig.effects) == nil)
        rig.time = 4
        // Someone else's PIN does not complete bob's card.
        #expect(rig.pin("246813")?.reason == .secondFactorNeeded)
        rig.time = 5
        let granted = rig.pin("135790")
        #expect(granted == AccessDecision(result: .granted, reason: .valid, residentID: "bob"))
        #expect(rig.audits.last?.detail["firstFactor"] == "card")
        // A PIN alone does not open.
        rig.advance(to: 30)
        #expect(rig.pin("135790")?.reason == .secondFactorNeeded)
    }

    @Test func aPinAfterTheSecondFactorTimeoutIsSecondFactorNeeded() {
        var rig = Rig(doors: [GateDoorSettings(name: "main", methods: [.card, .pin], verifyMode: .cardPin)], secondFactor: .seconds(10))
        rig.cards[[2, 2, 2, 2]] = bob
        rig.pins["135790"] = bob
        _ = rig.card([2, 2, 2, 2])
        rig.advance(to: 10)
        #expect(rig.pin("135790") == AccessDecision(result: .denied, reason: .secondFactorNeeded, residentID: "bob"))
    }

    @Test func aPinTypedInTimeCountsEvenWhenItsCheckEndsLate() {
        var rig = Rig(doors: [GateDoorSettings(name: "main", methods: [.card, .pin], verifyMode: .cardPin)], secondFactor: .seconds(10))
        rig.cards[[2, 2, 2, 2]] = bob
        rig.pins["135790"] = bob
        _ = rig.card([2, 2, 2, 2])
        rig.time = 9
        for digit in "135790" { rig.send(.input(.key(door: "main", KeypadKey(character: digit)!, keypad: "kp"), request: nil)) }
        rig.input(.key(door: "main", .submit, keypad: "kp"))
        rig.advance(to: 11)
        #expect(Rig.decision(rig.answer())?.isGranted == true)
    }

    @Test func facePinLetsAResidentWithoutAFaceUseCardPin() {
        var rig = Rig(doors: [GateDoorSettings(name: "main", methods: [.card, .pin, .face], verifyMode: .facePin)])
        rig.cards[[2, 2, 2, 2]] = bob
        rig.cards[[1, 1, 1, 1]] = alice
        rig.pins["135790"] = bob
        rig.pins["246813"] = alice
        rig.faces["alice"] = alice
        // bob has no face template: card + PIN.
        _ = rig.card([2, 2, 2, 2])
        #expect(rig.pin("135790")?.isGranted == true)
        // alice has one: her card is not her first factor, her face is.
        _ = rig.card([1, 1, 1, 1])
        #expect(rig.pin("246813")?.reason == .secondFactorNeeded)
        rig.input(.face(door: "main", residentID: "alice"))
        #expect(Rig.decision(rig.answer())?.reason == .secondFactorNeeded)
        #expect(rig.pin("246813")?.isGranted == true)
    }

    @Test func unitPinOpensOnlyOnAPinTypedAfterAUnitCode() {
        var rig = Rig(doors: [GateDoorSettings(name: "main", methods: [.card, .pin], verifyMode: .unitPin)], keypad: .unitPin)
        rig.cards[[2, 2, 2, 2]] = bob
        rig.pins["135790"] = bob
        #expect(rig.card([2, 2, 2, 2])?.reason == .secondFactorNeeded)
        #expect(rig.pin("1203#135790")?.isGranted == true)
        guard case .pin(_, let unit) = rig.effects.compactMap({ if case .lookUp(_, let query) = $0 { query } else { nil } }).last else {
            Issue.record("no PIN lookup")
            return
        }
        #expect(unit == "1203")
    }

    @Test func aDuressPinOpensLikeThePinAndRaisesASilentAlarmEntry() {
        var rig = Rig()
        rig.pins["135790"] = bob
        rig.duressPins["975310"] = bob
        let normal = rig.pin("135790")
        let normalEffects = rig.effects.count
        rig.advance(to: 10)
        let duress = rig.pin("975310")
        #expect(duress == normal)
        let after = Array(rig.effects[normalEffects...])
        #expect(Rig.released(after) == true)
        let entries = after.compactMap { if case .audit(let intent) = $0 { intent } else { nil } }
        let decision = entries.first { $0.action == .door(.access, .method(.pin)) }
        #expect(decision?.reason == .valid)
        #expect(decision?.journal == .accessDecision)
        let alarm = entries.first { $0.reason == .duress }
        #expect(alarm?.category == .alarm)
        #expect(alarm?.action == .door(.alarm, .reason(.duress)))
        #expect(alarm?.residentID == "bob")
        #expect(alarm?.journal == nil)
    }

    @Test func hardAntiPassbackDeniesASecondEntryUntilTheResidentLeaves() {
        var rig = Rig(doors: [
            GateDoorSettings(name: "in", methods: [.card], antiPassback: AntiPassback(area: "garage", direction: .entry, mode: .hard)),
            GateDoorSettings(name: "out", methods: [.card], antiPassback: AntiPassback(area: "garage", direction: .exit, mode: .hard)),
        ])
        rig.cards[[2, 2, 2, 2]] = bob
        #expect(rig.card([2, 2, 2, 2], door: "in")?.isGranted == true)
        #expect(rig.effects.contains { if case .savePresence(let changes) = $0 { changes.keys.contains(PresenceKey(residentID: "bob", area: "garage")) } else { false } })
        rig.advance(to: 10)
        #expect(rig.card([2, 2, 2, 2], door: "in") == AccessDecision(result: .denied, reason: .antiPassback, residentID: "bob"))
        #expect(rig.card([2, 2, 2, 2], door: "out")?.isGranted == true)
        #expect(rig.card([2, 2, 2, 2], door: "in")?.isGranted == true)
    }

    @Test func softAntiPassbackLetsInAndRecordsTheAlarm() {
        var rig = Rig(doors: [
            GateDoorSettings(name: "in", methods: [.card], antiPassback: AntiPassback(area: "lobby", direction: .entry, mode: .soft)),
        ])
        rig.cards[[2, 2, 2, 2]] = bob
        _ = rig.card([2, 2, 2, 2], door: "in")
        #expect(rig.card([2, 2, 2, 2], door: "in")?.isGranted == true)
        #expect(rig.audits.contains { $0.reason == .antiPassback && $0.result == .alarm && $0.residentID == "bob" })
    }

    @Test func presenceExpiresAfterTheTimeoutAndIsRestoredAtStart() {
        var rig = Rig(doors: [
            GateDoorSettings(name: "in", methods: [.card], antiPassback: AntiPassback(area: "garage", direction: .entry, mode: .hard)),
        ])
        rig.cards[[2, 2, 2, 2]] = bob
        rig.send(.restore(guessCounters: [:], presence: [PresenceKey(residentID: "bob", area: "garage"): rig.wall]))
        #expect(rig.card([2, 2, 2, 2], door: "in")?.reason == .antiPassback)
        rig.advance(to: 12 * 3600)
        #expect(rig.card([2, 2, 2, 2], door: "in")?.isGranted == true)
    }

    @Test func theDailyResetLetsEveryoneEnterAgain() {
        var rig = Rig(doors: [
            GateDoorSettings(name: "in", methods: [.card], antiPassback: AntiPassback(area: "garage", direction: .entry, mode: .hard)),
        ])
        rig.cards[[2, 2, 2, 2]] = bob
        #expect(rig.card([2, 2, 2, 2], door: "in")?.isGranted == true)
        let reset = rig.send(.resetPresence)
        #expect(reset.contains(.savePresence([PresenceKey(residentID: "bob", area: "garage"): nil])))
        rig.advance(to: 10)
        #expect(rig.card([2, 2, 2, 2], door: "in")?.isGranted == true)
    }

    @Test func aStrangersFaceIsDeniedWithoutALookup() {
        var rig = Rig()
        let effects = rig.input(.face(door: "main", residentID: nil))
        #expect(Rig.decision(effects)?.reason == .noMatch)
        #expect(rig.lookups.isEmpty)
        #expect(rig.audits.last?.journal == .faceNoMatch)
    }

    @Test func aFailedLookupIsDecidedAsAnUnknownCredentialAndLogged() {
        var rig = Rig()
        rig.input(.card(door: "main", CardUID(bytes: [1, 2, 3, 4])!))
        let (id, _) = rig.lookups.removeFirst()
        let effects = rig.send(.lookedUp(id, .failed(error: "disk I/O error")))
        #expect(Rig.decision(effects)?.reason == .unknownCard)
        #expect(effects.contains { if case .log(let line) = $0 { line.message == "credential lookup failed" } else { false } })
    }

    @Test func anUnknownDoorIsRefusedByName() {
        var rig = Rig()
        let effects = rig.input(.tamper(door: "back"))
        #expect(effects == [.reply(RequestID(1), .failure("no door is named back"))])
    }
}

/// Decision latency (R2, docs/compliance.md): from the first input of the presentation to the decision.
extension GateMachineTests {
    @Test func aDecisionsLatencyRunsFromTheFirstInputOfThePresentationToTheDecision() {
        var rig = Rig()
        rig.cards[[1, 2, 3, 4]] = alice
        rig.pins["246810"] = alice
        rig.advance(to: 1)
        rig.input(.card(door: "main", CardUID(bytes: [1, 2, 3, 4])!))
        rig.advance(to: 1.25)  // the store took 250 ms
        rig.answer()
        #expect(rig.audits.last?.method == .card && rig.audits.last?.latency == .milliseconds(250))

        // A PIN: from its first key, through a slow typist and the slow hash, to the decision.
        rig.advance(to: 10)
        for (index, digit) in "246810".enumerated() {
            rig.advance(to: 10 + Double(index) * 0.5)
            rig.send(.input(.key(door: "main", KeypadKey(character: digit)!, keypad: "kp"), request: nil))
        }
        rig.advance(to: 13)
        rig.input(.key(door: "main", .submit, keypad: "kp"))
        rig.advance(to: 13.1)
        rig.answer()
        #expect(rig.audits.last?.method == .pin && rig.audits.last?.result == .granted)
        #expect(rig.audits.last?.latency == .milliseconds(3100))

        // A stranger's face is decided on its own input; an exit request is no credential and has none.
        rig.advance(to: 20)
        rig.input(.face(door: "main", residentID: nil))
        #expect(rig.audits.last?.reason == .noMatch && rig.audits.last?.latency == .zero)
        rig.input(.exitRequest(door: "main"))
        #expect(rig.audits.last?.method == .rex && rig.audits.last?.latency == nil)
        // The machine's own detail is unchanged: latency travels beside it.
        #expect(rig.audits.allSatisfy { $0.detail["latencyMs"] == nil })
    }
}
