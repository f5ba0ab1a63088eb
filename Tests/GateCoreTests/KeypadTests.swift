import GateCore
import Testing

@Suite struct PinEntryTests {
    var keypad = PinEntryStateMachine<T>(rules: PinEntryRules(minimumDigits: 4, maximumDigits: 8, interDigitTimeout: .seconds(5)))

    mutating func type(_ text: String, from start: Double = 0) -> [PinEntryAction] {
        text.enumerated().map { index, character in keypad.key(KeypadKey(character: character)!, at: .at(start + Double(index) * 0.5)) }
    }

    @Test mutating func hashSubmitsTheDigits() {
        let actions = type("2468#")
        #expect(actions.last == .submit(PIN("2468")!))
        #expect(keypad.state == .idle)
    }

    @Test mutating func starClearsTypedDigits() {
        let r17 = type("99*2468#").last
        #expect(r17 == .submit(PIN("2468")!))
    }

    @Test mutating func tooShortAndTooLongAreRejected() {
        let r21 = type("123#").last
        #expect(r21 == .reject(.pinTooShort))
        let r22 = type("123456789").last
        #expect(r22 == .reject(.pinTooLong))
        #expect(keypad.state == .idle)
    }

    @Test mutating func silencePastTheInterDigitTimeoutDiscardsDigits() {
        _ = type("24")
        #expect(keypad.nextDeadline == .at(5.5))
        let r29 = keypad.tick(at: .at(5.5))
        #expect(r29 == .timedOut)
        let r30 = type("68#", from: 6).last
        #expect(r30 == .reject(.pinTooShort))
    }

    @Test func pinNeverPrintsItsDigits() {
        let pin = PIN("135792")!
        #expect(!"\(pin)".contains("135792"))
        #expect(!String(reflecting: pin).contains("135792"))
        #expect(PIN("12a4") == nil)
        #expect(PIN("") == nil)
    }

    @Test func keysMapFromCharacters() {
        #expect(KeypadKey(character: "#") == .submit)
        #expect(KeypadKey(character: "*") == .clear)
        #expect(KeypadKey(character: "7") == .digit(7))
        #expect(KeypadKey(character: "x") == nil)
        #expect(KeypadKey(character: "٣") == nil, "non-ASCII digits are not keypad keys")
    }
}

@Suite struct AccessPolicyTests {
    let door = DoorPolicy(name: "main", methods: [.card, .pin, .face])
    let now = WallTime(millisecondsSince1970: 1_800_000_000_000)

    @Test func knownHolderIsGrantedAlike() {
        let holder = CredentialHolder(residentID: "r1", validUntil: nil)
        for method in [AccessMethod.card, .pin, .face] {
            #expect(AccessPolicy.decide(method: method, holder: holder, door: door, now: now) ==
                    AccessDecision(result: .granted, reason: .valid, residentID: "r1"))
        }
    }

    @Test func unknownCredentialsAreDeniedWithTheirReason() {
        #expect(AccessPolicy.decide(method: .card, holder: nil, door: door, now: now).reason == .unknownCard)
        #expect(AccessPolicy.decide(method: .pin, holder: nil, door: door, now: now).reason == .unknownPin)
        #expect(AccessPolicy.decide(method: .face, holder: nil, door: door, now: now).reason == .noMatch)
    }

    @Test func expiredResidentIsDenied() {
        let holder = CredentialHolder(residentID: "r1", validUntil: now)
        #expect(AccessPolicy.decide(method: .card, holder: holder, door: door, now: now) ==
                AccessDecision(result: .denied, reason: .expired, residentID: "r1"))
        let later = CredentialHolder(residentID: "r1", validUntil: now.adding(days: 1))
        #expect(AccessPolicy.decide(method: .card, holder: later, door: door, now: now).isGranted)
    }

    @Test func methodNotEnabledOnTheDoorIsDenied() {
        let cardOnly = DoorPolicy(name: "side", methods: [.card])
        let holder = CredentialHolder(residentID: "r1", validUntil: nil)
        #expect(AccessPolicy.decide(method: .pin, holder: holder, door: cardOnly, now: now).reason == .methodDisabled)
    }
}
