import GateCore
import Testing

/// Wall time `seconds` after a fixed origin: the tests say exactly when each PIN is typed.
private func at(_ seconds: Double) -> WallTime {
    WallTime(millisecondsSince1970: 1_800_000_000_000 + Int64(seconds * 1000))
}

@Suite struct PinGuessLimitTests {
    let rules = LockoutRules(failures: 5, doorFailures: 8, window: .seconds(3600), firstLockout: .seconds(60),
                             maximumLockout: .seconds(3600), reset: .seconds(86_400))
    let keypad = PinGuessLimits.scopes(keypad: "kp1", door: "main")
    /// The same, with a door limit out of the way, to watch one keypad's back-off alone.
    var keypadOnly: LockoutRules { var rules = rules; rules.doorFailures = 1000; return rules }

    /// Charges `count` wrong PINs one second apart from `start`. - Returns: the scopes each one locked.
    func fail(_ limits: inout PinGuessLimits, _ count: Int, from start: Double, scopes: [GuessScope]? = nil) -> [[GuessScope]] {
        (0..<count).map { limits.charge(scopes ?? keypad, at: at(start + Double($0))) }
    }

    @Test func fiveWrongPinsLockTheKeypadForTheFirstLockout() {
        var limits = PinGuessLimits(rules: rules)
        let started = fail(&limits, 5, from: 0)
        #expect(started.prefix(4).allSatisfy { $0.isEmpty })
        #expect(started[4] == [.keypad(door: "main", name: "kp1")])
        #expect(limits.locked(keypad, at: at(4)) == [.keypad(door: "main", name: "kp1")])
        #expect(!limits.locked(keypad, at: at(63.9)).isEmpty)
        #expect(limits.locked(keypad, at: at(64)).isEmpty)
    }

    /// The attack of issue 9: four guesses, then the attacker's own PIN, forever. Each correct PIN only
    /// takes back its own charge, so the fifth wrong PIN still locks.
    @Test func interleavingTheAttackersOwnPinNeverResetsTheCount() {
        var limits = PinGuessLimits(rules: rules)
        var lockouts = 0
        var time = 0.0
        for _ in 0..<3 {
            for _ in 0..<4 {
                while !limits.locked(keypad, at: at(time)).isEmpty { time += 1 }
                if !limits.charge(keypad, at: at(time)).isEmpty { lockouts += 1 }
                time += 1
            }
            // The attacker's own, correct PIN: charged, checked, then refunded to the state before it.
            while !limits.locked(keypad, at: at(time)).isEmpty { time += 1 }
            let before = limits
            _ = limits.charge(keypad, at: at(time))
            for scope in keypad { limits.set(before.counter(scope), for: scope) }
            time += 1
        }
        #expect(lockouts >= 2, "12 wrong PINs between correct ones lock the keypad twice, saw \(lockouts)")
    }

    @Test func eachLockoutOfAStreakDoublesUpToTheCap() {
        var limits = PinGuessLimits(rules: keypadOnly)
        var time = 0.0
        var durations: [Int64] = []
        for _ in 0..<9 {
            _ = fail(&limits, 5, from: time)
            time += 4
            let until = limits.counter(.keypad(door: "main", name: "kp1")).lockedUntil!
            durations.append((until.millisecondsSince1970 - at(time).millisecondsSince1970) / 1000)
            time = Double(until.millisecondsSince1970 - at(0).millisecondsSince1970) / 1000
        }
        #expect(durations == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
    }

    @Test func aQuietPeriodStartsTheBackOffOver() {
        var limits = PinGuessLimits(rules: keypadOnly)
        _ = fail(&limits, 5, from: 0)
        _ = fail(&limits, 5, from: 100)
        #expect(limits.counter(.keypad(door: "main", name: "kp1")).level == 2)
        // A day after the last wrong PIN the streak and the count are gone.
        #expect(limits.locked(keypad, at: at(104 + 86_400)).isEmpty)
        #expect(limits.counter(.keypad(door: "main", name: "kp1")).isEmpty)
        _ = fail(&limits, 5, from: 104 + 86_400)
        let until = limits.counter(.keypad(door: "main", name: "kp1")).lockedUntil!
        #expect(until == at(108 + 86_400 + 60))
    }

    @Test func wrongPinsOlderThanTheWindowNoLongerCount() {
        var limits = PinGuessLimits(rules: rules)
        _ = fail(&limits, 4, from: 0)
        let later = limits.charge(keypad, at: at(3600))
        #expect(later.isEmpty, "the four earlier wrong PINs left the one-hour window")
        let next = limits.charge(keypad, at: at(3601))
        #expect(next.isEmpty)
    }

    @Test func entriesWhileLockedAreNotCountedAndDoNotExtendTheLockout() {
        var limits = PinGuessLimits(rules: rules)
        _ = fail(&limits, 5, from: 0)
        let during = fail(&limits, 20, from: 10)
        #expect(during.allSatisfy { $0.isEmpty })
        #expect(limits.counter(.keypad(door: "main", name: "kp1")).lockedUntil == at(64))
    }

    /// Extra keypads do not add tries: the door counts every keypad and locks them all.
    @Test func theDoorCountsEveryKeypadAndLocksThemAll() {
        var limits = PinGuessLimits(rules: rules)
        let second = PinGuessLimits.scopes(keypad: "kp2", door: "main")
        let third = PinGuessLimits.scopes(keypad: "kp3", door: "main")
        _ = fail(&limits, 4, from: 0)
        let started = fail(&limits, 4, from: 10, scopes: second)
        #expect(started.last == [.door("main")])
        #expect(limits.locked(third, at: at(20)) == [.door("main")], "a third keypad that saw no wrong PIN is locked with its door")
        let elsewhere = PinGuessLimits.scopes(keypad: "kp1", door: "side")
        #expect(limits.locked(elsewhere, at: at(20)).isEmpty)
    }

    @Test func aWallClockSteppedBackCannotLockForLongerThanTheCap() {
        var limits = PinGuessLimits(rules: rules)
        _ = fail(&limits, 5, from: 86_400 * 30)
        // The box reboots with its clock a month behind.
        #expect(!limits.locked(keypad, at: at(0)).isEmpty)
        #expect(limits.locked(keypad, at: at(3600)).isEmpty)
    }

    @Test func countersRoundTripThroughTheirStoredForm() throws {
        var limits = PinGuessLimits(rules: rules)
        _ = fail(&limits, 7, from: 0)
        let counter = limits.counter(.keypad(door: "main", name: "kp1"))
        var restored = PinGuessLimits(rules: rules)
        restored.set(counter, for: .keypad(door: "main", name: "kp1"))
        restored.set(limits.counter(.door("main")), for: .door("main"))
        #expect(restored == limits)
        #expect(!restored.locked(keypad, at: at(10)).isEmpty)
    }
}

@Suite struct GuessBudgetTests {
    /// The defaults: 5 wrong PINs lock a keypad; 1 min doubling to 1 h; a one-hour window; reset after a day.
    @Test func theDefaultBudgetIsAFewHundredGuessesADay() {
        let rules = LockoutRules()
        let budget = GuessBudget.maximumGuesses(rules: rules, limit: rules.failures)
        #expect((100...200).contains(budget), "saw \(budget)")
        let oldDefaults = LockoutRules(failures: 5, window: .seconds(60), firstLockout: .seconds(60), maximumLockout: .seconds(60))
        #expect(GuessBudget.maximumGuesses(rules: oldDefaults, limit: 5) >= 5 * 1400, "a fixed one-minute lockout allows ~7,200 a day")
    }

    @Test func expectedGuessesMatchTheIssuesExample() {
        // 200 residents with 4-digit PINs, PIN-only: about 50 guesses to the first hit.
        let guesses = GuessBudget.expectedGuesses(space: GuessBudget.pinSpace(digits: 4), holders: 200)!
        #expect(Int(guesses) == 49)
    }

    /// No timing an attacker can choose beats the bound: attackers with random bursts and pauses,
    /// run against the real counter for a day.
    @Test func noAttackerTimingExceedsTheBound() {
        let rules = LockoutRules(failures: 5, doorFailures: 5, window: .seconds(600), firstLockout: .seconds(60),
                                 maximumLockout: .seconds(1800), reset: .seconds(3600))
        let bound = GuessBudget.maximumGuesses(rules: rules, limit: 5)
        var generator = SplitMix(seed: 9)
        var best = 0
        for trial in 0..<60 {
            var limits = PinGuessLimits(rules: rules)
            let scopes = PinGuessLimits.scopes(keypad: "k", door: "d")
            var time = 0.0
            var checked = 0
            while time < 86_400 {
                if limits.locked(scopes, at: at(time)).isEmpty {
                    _ = limits.charge(scopes, at: at(time))
                    checked += 1
                }
                // Trial 0 hammers as fast as allowed; trial 1 paces 4 guesses per window, never locking;
                // the rest mix bursts with random pauses.
                switch trial {
                case 0: time += 1
                case 1: time += checked % 4 == 0 ? 597 : 1
                default: time += [1, 1, 1, 30, 120, 600, 3600][Int(generator.next() % 7)]
                }
            }
            best = max(best, checked)
            #expect(checked <= bound, "trial \(trial): \(checked) guesses against a bound of \(bound)")
        }
        #expect(best * 10 >= bound * 9, "the bound is within 10 % of the best timing tried: best \(best), bound \(bound)")
    }
}

/// A small deterministic generator for reproducible random strategies.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct UnitPinEntryTests {
    var keypad = PinEntryStateMachine<T>(rules: PinEntryRules(minimumDigits: 6, maximumDigits: 8, mode: .unitPin))

    mutating func type(_ text: String) -> [PinEntryAction] {
        text.enumerated().map { index, character in keypad.key(KeypadKey(character: character)!, at: .at(Double(index) * 0.3)) }
    }

    @Test mutating func theFirstHashEndsTheUnitCodeAndTheSecondSubmits() {
        let actions = type("321501#246813#")
        #expect(actions.dropLast().allSatisfy { $0 == .none })
        #expect(actions.last == .submit(PIN("246813")!, unit: "321501"))
    }

    @Test mutating func starStartsOverFromTheUnitCode() {
        let action = type("321501#24*777#246813#").last
        #expect(action == .submit(PIN("246813")!, unit: "777"), "after * the next digits are a unit code again")
    }

    @Test mutating func shortPinsAndLongUnitCodesAreRejectedUnchecked() {
        #expect(type("321501#2468#").last == .reject(.pinTooShort))
        #expect(type("1234567890123").last == .reject(.pinTooLong))
        #expect(type("321501##").last == .reject(.pinTooShort))
    }

    @Test func pinModeSubmitsWithoutAUnit() {
        var pinOnly = PinEntryStateMachine<T>(rules: PinEntryRules(minimumDigits: 6, maximumDigits: 8, mode: .pin))
        var last = PinEntryAction.none
        for (index, character) in "246813#".enumerated() { last = pinOnly.key(KeypadKey(character: character)!, at: .at(Double(index))) }
        #expect(last == .submit(PIN("246813")!, unit: nil))
    }

    @Test func unitCodesAreTheDigitsOfTheUnit() {
        #expect(KeypadUnit.code(of: "3-2-1501") == "321501")
        #expect(KeypadUnit.code(of: "B-12") == "12")
        #expect(KeypadUnit.code(of: "Gatehouse") == nil)
    }
}

@Suite struct PinStrengthTests {
    let strength = PinStrength(minimumDigits: 6, maximumDigits: 12)

    @Test func trivialPinsAreRefused() {
        for trivial in ["111111", "123456", "654321", "890123", "121212", "123123", "112233", "998877", "123321", "147258", "12345"] {
            #expect(strength.weakness(of: PIN(trivial)!) != nil, "\(trivial) must be refused")
        }
    }

    @Test func theUnitCodeIsRefused() {
        #expect(strength.weakness(of: PIN("321501")!, unitCode: "321501") == "it contains the unit code")
        #expect(strength.weakness(of: PIN("150199")!, unitCode: "1501") != nil)
        #expect(strength.weakness(of: PIN("150199")!, unitCode: nil) == nil)
    }

    @Test func ordinaryPinsAreAccepted() {
        for good in ["135792", "246813", "975310", "582946", "918273", "30571946"] {
            #expect(strength.weakness(of: PIN(good)!) == nil, "\(good) is acceptable")
        }
    }
}
