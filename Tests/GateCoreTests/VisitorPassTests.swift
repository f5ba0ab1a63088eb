import GateCore
import Testing

/// The visitor pass model at fixed times (docs/visitors.md).
@Suite struct VisitorPassTests {
    let start = WallTime(millisecondsSince1970: 1_790_000_000_000)

    func pass(uses: Int = 2, left: Int? = nil, doors: [String] = ["main"], revoked: Bool = false) -> VisitorPass {
        VisitorPass(id: "v0123456789ab", name: "Courier", doors: doors, validFrom: start,
                    validUntil: start.advanced(by: .seconds(3600)), usesTotal: uses, usesLeft: left ?? uses,
                    revokedAt: revoked ? start : nil)
    }

    @Test func aPassOpensItsDoorsInsideItsWindowUntilItsUsesAreSpent() {
        var current = pass(uses: 2)
        let inside = start.advanced(by: .seconds(60))
        #expect(current.refusal(at: "main", wall: inside) == nil)
        current = current.consumed(at: "main", wall: inside)!
        #expect(current.usesLeft == 1)
        current = current.consumed(at: "main", wall: inside)!
        #expect(current.usesLeft == 0)
        #expect(current.refusal(at: "main", wall: inside) == .passUsedUp)
        #expect(current.consumed(at: "main", wall: inside) == nil)
    }

    @Test func theWindowIsHalfOpenAndEachRefusalHasItsReason() {
        let valid = pass()
        #expect(valid.refusal(at: "main", wall: start) == nil, "valid from its first millisecond")
        #expect(valid.refusal(at: "main", wall: start.advanced(by: .milliseconds(-1))) == .notYetValid)
        #expect(valid.refusal(at: "main", wall: start.advanced(by: .seconds(3600) - .milliseconds(1))) == nil)
        #expect(valid.refusal(at: "main", wall: start.advanced(by: .seconds(3600))) == .expired, "validUntil no longer opens")
        #expect(valid.refusal(at: "garage", wall: start) == .notInGroup, "a door the pass does not name")
        #expect(pass(revoked: true).refusal(at: "main", wall: start) == .passRevoked)
        #expect(pass(left: 0).refusal(at: "main", wall: start) == .passUsedUp)
    }

    @Test func revocationComesFirstAndAWrongDoorIsOnlySaidOfAPassThatOpensElsewhere() {
        let late = start.advanced(by: .seconds(7200))
        #expect(pass(left: 0, revoked: true).refusal(at: "garage", wall: late) == .passRevoked)
        #expect(pass(left: 0).refusal(at: "garage", wall: late) == .expired)
        #expect(pass(left: 0).refusal(at: "garage", wall: start) == .passUsedUp)
        #expect(pass(doors: ["main", "garage"]).refusal(at: "garage", wall: start) == nil)
    }

    @Test func theKeypadTellsVisitorCodesFromPINsInBothModes() {
        #expect(VisitorKeypad.codeDigits >= 8)
        // unit + PIN keypads: the reserved unit 0 is only ever a visitor code, any other unit never.
        #expect(VisitorKeypad.lookup(unit: "0", digits: 8) == .only)
        #expect(VisitorKeypad.lookup(unit: "0", digits: 6) == .only)
        #expect(VisitorKeypad.lookup(unit: "31501", digits: 8) == .never)
        // PIN-only keypads: an entry of the code's length is looked up as a code first, then as a PIN.
        #expect(VisitorKeypad.lookup(unit: nil, digits: VisitorKeypad.codeDigits) == .first)
        #expect(VisitorKeypad.lookup(unit: nil, digits: 6) == .never)
    }

    @Test func aDecisionSaysGrantedOnlyWithoutARefusal() {
        #expect(VisitorPassDecision(passID: "v0123456789ab", refusal: nil).decision == AccessDecision(result: .granted, reason: .valid))
        #expect(VisitorPassDecision(passID: "v0123456789ab", refusal: .passUsedUp).decision == AccessDecision(result: .denied, reason: .passUsedUp))
    }
}
