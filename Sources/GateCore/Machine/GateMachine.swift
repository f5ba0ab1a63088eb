/// Every decision of a gate, as a value: events in, effects out, no I/O (sans-IO, like swift-nio's and
/// Hummingbird's state machines).
///
/// The machine owns each door's `DoorStateMachine`, each keypad's `PinEntryStateMachine`, the wrong-PIN
/// counters (`PinGuessLimits`), the denial flood windows (`DenialCollapser`), the lookups it is waiting for,
/// second-factor waits and anti-passback presence. It asks the store through `GateEffect.lookUp` and is told
/// the answer through `GateEvent.lookedUp`, so inputs that need no lookup (fire, contact, REX, tamper,
/// lockdown) are decided at once even while a slow PIN check runs.
///
/// A credential is decided in this order (docs/access-rules.md, "How a decision is made"):
/// fire > lockdown > passage > validity > group × schedule (`AccessRules.verdict`) > verify mode > anti-passback.
/// Fire releases the door whatever the decision; lockdown refuses every credential and remote open; during
/// passage the door stands open and credentials are still decided and recorded.
///
/// Time is a parameter: `now` (the executor's clock, for pulses, timeouts and timers) and `wall` (civil
/// time, for validity, schedules, lockouts and audit entries).
public struct GateMachine<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public typealias Effect = GateEffect<Instant>

    /// One door's live state.
    public struct Door: Sendable {
        public internal(set) var settings: GateDoorSettings
        public internal(set) var lock: DoorStateMachine<Instant>
        /// Digits being typed, per keypad (two keypads at one door never mix their digits).
        var keypads: [String: PinEntryStateMachine<Instant>] = [:]
        public internal(set) var lockedDown = false
        /// Whether the door is held open for passage now (the rules say so, and no lockdown).
        public internal(set) var inPassage = false
        /// A first factor (card or face) waiting for the same resident's PIN.
        var secondFactor: SecondFactorWait?

        init(settings: GateDoorSettings) {
            self.settings = settings
            lock = DoorStateMachine(timings: settings.timings)
        }
    }

    struct SecondFactorWait: Sendable {
        var residentID: String
        var first: AccessMethod
        var until: Instant
    }

    /// What a lookup was for.
    enum Pending: Sendable {
        case card(door: String, last4: String, request: RequestID?)
        case face(door: String, request: RequestID?)
        case pin(PinAttempt)
        /// Visitor passes (docs/visitors.md): a keypad entry looked up as a visitor code first.
        case visitorCode(PinAttempt)
        case visitorQR(door: String, request: RequestID?)
    }

    /// A submitted PIN; charged to its scopes before its lookup.
    struct PinAttempt: Sendable {
        var door: String
        var keypad: String
        var pin: PIN
        var unit: String?
        var request: RequestID?
        /// When `#` was pressed: a second factor counts as in time when it was typed in time.
        var submittedAt: Instant
        /// The first key of the entry: where the decision's latency starts (R2).
        var firstKeyAt: Instant? = nil
        var scopes: [GuessScope] = []
        var before: PinGuessLimits?
        var started: [GuessScope] = []
    }

    public private(set) var settings: GateSettings
    public private(set) var doors: [String: Door]
    public private(set) var rules: AccessRules = .open
    public private(set) var guesses: PinGuessLimits
    public private(set) var presence: [PresenceKey: WallTime] = [:]
    private var denials = DenialCollapser<DenialKey, Instant>(rules: .init(window: .seconds(60), individually: 20))
    private var pending: [LookupID: Pending] = [:]
    /// PINs submitted while another PIN is being checked: checked one at a time, so that a refund puts
    /// back exactly the counters its own charge changed.
    private var pinQueue: [PinAttempt] = []
    private var pinInFlight = false
    private var nextLookup: UInt64 = 0
    private var scheduled: Set<Instant> = []
    /// When the rules next change (passage), as an instant of the executor's clock.
    private var rulesDeadline: Instant?
    /// The presentation being decided: when its first input came and now, for the decision's latency (R2).
    private var presentation: (start: Instant, now: Instant)?
    /// The first key of each keypad's entry in progress (`door` + U+001F + `keypad`).
    private var keypadStarts: [String: Instant] = [:]
    /// When the presentation behind each lookup began.
    private var lookupStarts: [LookupID: Instant] = [:]

    public init(settings: GateSettings) {
        self.settings = settings
        doors = Dictionary(uniqueKeysWithValues: settings.doors.map { ($0.name, Door(settings: $0)) })
        guesses = PinGuessLimits(rules: settings.lockout)
    }

    /// Denials counted in open flood windows and not yet written.
    public var pendingCollapsedDenials: Int { denials.pendingCollapsed }

    /// Lookups asked for and not yet answered.
    public var pendingLookups: Int { pending.count }

    /// Handles one event. - Returns: the effects, in the order they must be performed.
    public mutating func handle(_ event: GateEvent, now: Instant, wall: WallTime) -> [Effect] {
        var effects: [Effect] = []
        switch event {
        case .restore(let counters, let saved):
            for (scope, counter) in counters { guesses.set(counter, for: scope) }
            let locked = guesses.locked(Array(counters.keys), at: wall)
            if !locked.isEmpty {
                effects.append(.log(LogLine(.notice, "keypad lockout carried over from before the restart", ["lockout.scopes": "\(locked.count)"])))
            }
            presence = saved.filter { wall < $0.value.advanced(by: settings.presenceTimeout) }
            updatePassage(now: now, wall: wall, into: &effects)
        case .input(let input, let request):
            presentation = (now, now)
            handle(input, request: request, now: now, wall: wall, into: &effects)
            presentation = nil
        case .lookedUp(let id, let answer):
            let start = lookupStarts.removeValue(forKey: id)
            guard let waiting = pending.removeValue(forKey: id) else { break }
            presentation = start.map { ($0, now) }
            answered(waiting, answer, now: now, wall: wall, into: &effects)
            presentation = nil
        case .tick:
            tick(now: now, wall: wall, into: &effects)
        case .maintenance:
            closeDenialWindows(all: false, now: now, wall: wall, into: &effects)
        case .reconfigure(let new):
            settings = new
            guesses.rules = new.lockout
            for door in new.doors where doors[door.name] != nil {
                doors[door.name]!.settings = door
                doors[door.name]!.lock.timings = door.timings
                for keypad in doors[door.name]!.keypads.keys { doors[door.name]!.keypads[keypad]!.rules = new.pinEntry }
                // The relay's polarity may have changed: the executor sets the level again.
                effects.append(.setLock(door: door.name, released: doors[door.name]!.lock.isUnlocked))
            }
            updatePassage(now: now, wall: wall, into: &effects)
        case .rules(let new):
            rules = new
            updatePassage(now: now, wall: wall, into: &effects)
        case .resetPresence:
            if !presence.isEmpty {
                effects.append(.savePresence(presence.mapValues { _ in nil }))
                effects.append(.log(LogLine(.info, "anti-passback presence reset", ["presence.count": "\(presence.count)"])))
                presence.removeAll()
            }
        case .shutdown:
            closeDenialWindows(all: true, now: now, wall: wall, into: &effects)
        }
        scheduleTimers(now: now, into: &effects)
        return effects
    }

    // MARK: Inputs

    private mutating func handle(_ input: DoorInput, request: RequestID?, now: Instant, wall: WallTime, into effects: inout [Effect]) {
        switch input {
        case .fire(nil, let active):
            for name in doors.keys.sorted() { perform(doors[name]!.lock.fire(active: active, at: now), door: name, wall: wall, into: &effects) }
            if !active { updatePassage(now: now, wall: wall, into: &effects) }
            reply(request, .done(message: "fire alarm \(active ? "on" : "off") at every door", decision: nil), into: &effects)
            return
        case .lockdown(nil, let active):
            for name in doors.keys.sorted() { setLockdown(active, door: name, now: now, wall: wall, into: &effects) }
            reply(request, .done(message: "lockdown \(active ? "on" : "off") at every door", decision: nil), into: &effects)
            return
        default:
            break
        }
        guard let name = input.door, doors[name] != nil else {
            reply(request, .failure("no door is named \(input.door ?? "")"), into: &effects)
            return
        }
        var decision: AccessDecision?
        switch input {
        case .card(_, let card):
            if let refused = refusedByDoor(name, method: .card, wall: wall, into: &effects, detail: ["card": card.last4]) {
                decision = refused
                break
            }
            lookUp(.card(card), for: .card(door: name, last4: card.last4, request: request), into: &effects)
            return
        case .key(_, let key, let keypad):
            let rules = settings.pinEntry
            let entry = name + "\u{1F}" + keypad
            let before = doors[name]!.keypads[keypad]
            if before == nil || before!.state == .idle || before!.nextDeadline.map({ $0 <= now }) == true { keypadStarts[entry] = now }
            let firstKeyAt = keypadStarts[entry] ?? now
            presentation = (firstKeyAt, now)
            let action = doors[name]!.keypads[keypad, default: PinEntryStateMachine(rules: rules)].key(key, at: now)
            if doors[name]!.keypads[keypad]!.state == .idle { keypadStarts[entry] = nil }
            switch action {
            case .none, .timedOut:
                break
            case .reject(let reason):
                let denied = AccessDecision(result: .denied, reason: reason)
                record(denied, method: .pin, door: name, now: now, wall: wall, into: &effects)
                decision = denied
            case .submit(let pin, let unit):
                pinQueue.append(PinAttempt(door: name, keypad: keypad, pin: pin, unit: unit, request: request, submittedAt: now,
                                           firstKeyAt: firstKeyAt))
                startNextPIN(now: now, wall: wall, into: &effects)
                return
            }
        case .face(_, nil):
            // A stranger: this line and one event without any data about the face (R10).
            let denied = AccessDecision(result: .denied, reason: .noMatch)
            record(denied, method: .face, door: name, now: now, wall: wall, into: &effects)
            decision = denied
        case .faceRefused(_, let reason):
            // Refused before any resident was decided (liveness): recorded like a stranger.
            let denied = AccessDecision(result: .denied, reason: reason)
            record(denied, method: .face, door: name, now: now, wall: wall, into: &effects)
            decision = denied
        case .face(_, let residentID?):
            if let refused = refusedByDoor(name, method: .face, wall: wall, into: &effects) {
                decision = refused
                break
            }
            lookUp(.face(residentID: residentID, door: name), for: .face(door: name, request: request), into: &effects)
            return
        case .exitRequest:
            // Egress is never refused, not even in lockdown.
            let granted = AccessDecision(result: .granted, reason: .exitRequest)
            perform(doors[name]!.lock.release(at: now), door: name, wall: wall, into: &effects)
            record(granted, method: .rex, door: name, now: now, wall: wall, into: &effects)
            decision = granted
        case .remoteOpen(_, let op):
            if doors[name]!.lockedDown {
                let denied = AccessDecision(result: .denied, reason: .lockedDown)
                record(denied, method: .remote, door: name, operator: op, now: now, wall: wall, into: &effects)
                decision = denied
                break
            }
            let granted = AccessDecision(result: .granted, reason: .remoteOpen)
            perform(doors[name]!.lock.release(at: now), door: name, wall: wall, into: &effects)
            record(granted, method: .remote, door: name, operator: op, now: now, wall: wall, into: &effects)
            decision = granted
        case .contact(_, let open):
            perform(doors[name]!.lock.contact(open: open, at: now), door: name, wall: wall, into: &effects)
        case .fire(_, let active):
            perform(doors[name]!.lock.fire(active: active, at: now), door: name, wall: wall, into: &effects)
            if !active { updatePassage(now: now, wall: wall, into: &effects) }
        case .tamper:
            perform(doors[name]!.lock.tamper(at: now), door: name, wall: wall, into: &effects)
        case .lockdown(_, let active):
            setLockdown(active, door: name, now: now, wall: wall, into: &effects)
        case .visitorQR(_, let payload):
            guard doors[name]!.settings.visitorQR else {
                let denied = AccessDecision(result: .denied, reason: .methodDisabled)
                record(denied, method: .visitor, door: name, now: now, wall: wall, into: &effects)
                decision = denied
                break
            }
            if let refused = refusedByDoor(name, method: .visitor, wall: wall, into: &effects) {
                decision = refused
                break
            }
            lookUp(.visitorQR(payload, door: name), for: .visitorQR(door: name, request: request), into: &effects)
            return
        }
        replyState(request, door: name, decision: decision, into: &effects)
    }

    /// Refuses a credential before any lookup when the door's state alone refuses it (lockdown).
    private mutating func refusedByDoor(_ door: String, method: AccessMethod, wall: WallTime, into effects: inout [Effect],
                                        detail: [String: String] = [:]) -> AccessDecision? {
        guard doors[door]!.lockedDown else { return nil }
        let denied = AccessDecision(result: .denied, reason: .lockedDown)
        record(denied, method: method, door: door, now: nil, wall: wall, into: &effects, detail: detail)
        return denied
    }

    private mutating func setLockdown(_ active: Bool, door: String, now: Instant, wall: WallTime, into effects: inout [Effect]) {
        guard doors[door]!.lockedDown != active else { return }
        doors[door]!.lockedDown = active
        doors[door]!.secondFactor = nil
        effects.append(.audit(AuditIntent(time: wall, category: .admin, action: .doorLockdown, door: door,
                                           detail: ["lockdown": active ? "on" : "off"], journal: .lockdown)))
        updatePassage(now: now, wall: wall, into: &effects)
    }

    private mutating func lookUp(_ query: CredentialQuery, for waiting: Pending, into effects: inout [Effect]) {
        nextLookup += 1
        let id = LookupID(nextLookup)
        pending[id] = waiting
        lookupStarts[id] = presentation?.start
        effects.append(.lookUp(id, query))
    }

    // MARK: PINs

    /// Starts the next queued PIN check, bounded by the wrong-PIN counters of its keypad and door.
    ///
    /// While a scope is locked the PIN is refused unchecked. Otherwise the attempt is charged as a wrong
    /// PIN and the charge is saved *before* the lookup (effects are performed in order), so neither a
    /// restart nor a kill during the slow hash wins a free guess; only a PIN that turns out to be a
    /// resident's takes its own charge back. Nobody else's success ever lowers the count.
    private mutating func startNextPIN(now: Instant, wall: WallTime, into effects: inout [Effect]) {
        let outer = presentation
        defer { presentation = outer }
        while !pinInFlight, !pinQueue.isEmpty {
            var attempt = pinQueue.removeFirst()
            presentation = (attempt.firstKeyAt ?? attempt.submittedAt, now)
            let door = attempt.door
            if let refused = refusedByDoor(door, method: .pin, wall: wall, into: &effects) {
                replyState(attempt.request, door: door, decision: refused, into: &effects)
                continue
            }
            attempt.scopes = PinGuessLimits.scopes(keypad: attempt.keypad, door: door)
            if !guesses.locked(attempt.scopes, at: wall).isEmpty {
                let denied = AccessDecision(result: .denied, reason: .lockedOut)
                record(denied, method: .pin, door: door, now: now, wall: wall, into: &effects)
                replyState(attempt.request, door: door, decision: denied, into: &effects)
                continue
            }
            attempt.before = guesses
            attempt.started = guesses.charge(attempt.scopes, at: wall)
            saveCounters(attempt.scopes, into: &effects)
            pinInFlight = true
            // A visitor's one-off code (docs/visitors.md), charged like a PIN above.
            if VisitorKeypad.lookup(unit: attempt.unit, digits: attempt.pin.digits.count) != .never,
               doors[door]!.settings.methods.contains(.pin) {
                lookUp(.visitorCode(attempt.pin, door: door), for: .visitorCode(attempt), into: &effects)
                continue
            }
            lookUp(.pin(attempt.pin, unit: attempt.unit), for: .pin(attempt), into: &effects)
        }
    }

    private func saveCounters(_ scopes: [GuessScope], into effects: inout [Effect]) {
        effects.append(.saveGuessCounters(Dictionary(uniqueKeysWithValues: scopes.map { ($0, guesses.counter($0)) })))
    }

    private mutating func finishCharge(_ attempt: PinAttempt, refund: Bool, wall: WallTime, into effects: inout [Effect]) {
        if refund, let before = attempt.before {
            for scope in attempt.scopes { guesses.set(before.counter(scope), for: scope) }
            saveCounters(attempt.scopes, into: &effects)
        } else if !attempt.started.isEmpty {
            let until = attempt.started.compactMap { guesses.counter($0).lockedUntil }.max()
            effects.append(.log(LogLine(.notice, "keypad locked out after wrong PINs", [
                "door.id": attempt.door, "lockout.scopes": attempt.started.map(\.kind).joined(separator: ","),
                "lockout.seconds": "\(until.map { ($0.millisecondsSince1970 - wall.millisecondsSince1970 + 999) / 1000 } ?? 0)",
            ])))
            alarm(.keypadLockout, door: attempt.door, method: .pin, wall: wall, into: &effects)
        }
    }

    // MARK: Visitor passes (docs/visitors.md)

    /// Opens for a pass the store found and spent, or records why not: method `visitor`, no resident, the pass id
    /// in the entry's detail.
    private mutating func admitVisitor(_ found: VisitorPassDecision, door: String, now: Instant, wall: WallTime,
                                       into effects: inout [Effect]) -> AccessDecision {
        let decision = found.decision
        if decision.isGranted { perform(doors[door]!.lock.release(at: now), door: door, wall: wall, into: &effects) }
        record(decision, method: .visitor, door: door, now: now, wall: wall, into: &effects, detail: found.passID.map { ["pass": $0] } ?? [:])
        return decision
    }

    private mutating func answeredVisitor(_ waiting: Pending, _ answer: LookupAnswer, now: Instant, wall: WallTime, into effects: inout [Effect]) {
        switch waiting {
        case .visitorQR(let door, let request):
            let found: VisitorPassDecision
            if case .visitor(let decision?) = answer {
                found = decision
            } else {
                _ = failedLookup(answer, door: door, into: &effects)
                found = VisitorPassDecision(passID: nil, refusal: .unknownCard)
            }
            let decision = admitVisitor(found, door: door, now: now, wall: wall, into: &effects)
            replyState(request, door: door, decision: decision, into: &effects)
        case .visitorCode(let attempt):
            let door = attempt.door
            if case .visitor(let found?) = answer {
                // The code is a pass's (opened, or refused as used up, revoked, expired, wrong door): no guess.
                let decision = admitVisitor(found, door: door, now: now, wall: wall, into: &effects)
                finishCharge(attempt, refund: true, wall: wall, into: &effects)
                pinInFlight = false
                replyState(attempt.request, door: door, decision: decision, into: &effects)
                startNextPIN(now: now, wall: wall, into: &effects)
            } else if VisitorKeypad.lookup(unit: attempt.unit, digits: attempt.pin.digits.count) == .first, case .visitor(nil) = answer {
                // PIN-only keypad: no pass has this code, so it is checked as a PIN (still in flight, still charged).
                lookUp(.pin(attempt.pin, unit: attempt.unit), for: .pin(attempt), into: &effects)
            } else {
                if case .visitor = answer {} else { _ = failedLookup(answer, door: door, into: &effects) }
                let denied = AccessDecision(result: .denied, reason: .unknownPin)
                record(denied, method: .visitor, door: door, now: now, wall: wall, into: &effects)
                finishCharge(attempt, refund: false, wall: wall, into: &effects)
                pinInFlight = false
                replyState(attempt.request, door: door, decision: denied, into: &effects)
                startNextPIN(now: now, wall: wall, into: &effects)
            }
        default:
            break
        }
    }

    // MARK: Answers

    private mutating func answered(_ waiting: Pending, _ answer: LookupAnswer, now: Instant, wall: WallTime, into effects: inout [Effect]) {
        switch waiting {
        case .visitorQR, .visitorCode:
            answeredVisitor(waiting, answer, now: now, wall: wall, into: &effects)
        case .card(let door, let last4, let request):
            let holder: CredentialHolder??
            switch answer {
            case .card(let found): holder = .some(found)
            default: holder = failedLookup(answer, door: door, into: &effects)
            }
            let decision = decide(.card, holder: holder, door: door, now: now, wall: wall, into: &effects, detail: ["card": last4])
            replyState(request, door: door, decision: decision, into: &effects)
        case .face(let door, let request):
            var decision: AccessDecision
            switch answer {
            case .face(_, false):
                // The consent in force does not cover this door (its scope changed since the index was
                // built): recorded like a stranger, without the resident, who did not consent to be seen here.
                decision = AccessDecision(result: .denied, reason: .outOfScope)
                record(decision, method: .face, door: door, now: now, wall: wall, into: &effects)
            case .face(let found, true):
                decision = decide(.face, holder: .some(found), door: door, now: now, wall: wall, into: &effects)
            default:
                decision = decide(.face, holder: failedLookup(answer, door: door, into: &effects), door: door, now: now, wall: wall,
                                  into: &effects)
            }
            replyState(request, door: door, decision: decision, into: &effects)
        case .pin(let attempt):
            pinInFlight = false
            let door = attempt.door
            var decision: AccessDecision
            switch answer {
            case .pin(.ambiguous(let count)):
                // Several residents share this PIN: nobody is let in on it, and the manager is told.
                effects.append(.log(LogLine(.warning, "a PIN typed at the keypad belongs to several residents; none was let in",
                                            ["door.id": door, "pin.holders": "\(count)"])))
                decision = AccessDecision(result: .denied, reason: .ambiguousPin)
                record(decision, method: .pin, door: door, now: now, wall: wall, into: &effects)
                effects.append(.audit(AuditIntent(time: wall, category: .alarm, action: .pinAmbiguous, door: door,
                                                  method: .pin, result: .alarm, reason: .ambiguousPin, detail: ["holders": "\(count)"])))
                finishCharge(attempt, refund: false, wall: wall, into: &effects)
            case .pin(let match):
                var holder: CredentialHolder?
                var duress = false
                if case .one(let found, let isDuress) = match { (holder, duress) = (found, isDuress) }
                decision = decide(.pin, holder: .some(holder), door: door, now: now, wall: wall, into: &effects,
                                  unitTyped: attempt.unit != nil, presentedAt: attempt.submittedAt)
                if duress, let holder {
                    // The silent alarm: its own entry; the decision's entry and journal line look like any PIN.
                    effects.append(.audit(AuditIntent(time: wall, category: .alarm, action: .door(.alarm, .reason(.duress)), door: door,
                                                      method: .pin, result: .alarm, reason: .duress, residentID: holder.residentID)))
                }
                // A PIN that is a resident's (granted, or denied as expired or disabled here) was no guess.
                finishCharge(attempt, refund: decision.residentID != nil, wall: wall, into: &effects)
            default:
                decision = decide(.pin, holder: failedLookup(answer, door: door, into: &effects), door: door, now: now, wall: wall,
                                  into: &effects)
                finishCharge(attempt, refund: false, wall: wall, into: &effects)
            }
            replyState(attempt.request, door: door, decision: decision, into: &effects)
            startNextPIN(now: now, wall: wall, into: &effects)
        }
    }

    /// A failed (or mismatched) answer: logged, and decided as a credential nobody holds.
    private func failedLookup(_ answer: LookupAnswer, door: String, into effects: inout [Effect]) -> CredentialHolder?? {
        let error = if case .failed(let error) = answer { error } else { "the store answered a different question" }
        effects.append(.log(LogLine(.error, "credential lookup failed", ["error": error, "door.id": door])))
        return nil
    }

    // MARK: The decision

    /// The access policy, the rules, then the door: identical for every credential method (R1, R2).
    /// - Parameter holder: `nil` when the lookup failed; `.some(nil)` when nobody holds the credential.
    private mutating func decide(_ method: AccessMethod, holder lookup: CredentialHolder??, door: String, now: Instant, wall: WallTime,
                                 into effects: inout [Effect], detail: [String: String] = [:], unitTyped: Bool = false,
                                 presentedAt: Instant? = nil) -> AccessDecision {
        var detail = detail
        let decision: AccessDecision
        if let holder = lookup {
            decision = evaluate(method, holder: holder, door: door, now: now, presentedAt: presentedAt ?? now, wall: wall,
                                unitTyped: unitTyped, detail: &detail, into: &effects)
        } else {
            decision = AccessDecision(result: .denied, reason: AccessPolicy.unknownReason(for: method))
        }
        if decision.isGranted { perform(doors[door]!.lock.release(at: now), door: door, wall: wall, into: &effects) }
        record(decision, method: method, door: door, now: now, wall: wall, into: &effects, detail: detail)
        if decision.isGranted, method == .card || method == .pin, let residentID = decision.residentID {
            effects.append(.credentialGranted(residentID: residentID, door: door, method: method))
        }
        return decision
    }

    /// fire > lockdown > passage > validity > group × schedule > verify mode > anti-passback. Fire and passage
    /// act on the lock, not on the decision: a credential is decided as usual while the door stands open.
    private mutating func evaluate(_ method: AccessMethod, holder: CredentialHolder?, door: String, now: Instant, presentedAt: Instant,
                                   wall: WallTime, unitTyped: Bool, detail: inout [String: String], into effects: inout [Effect]) -> AccessDecision {
        let settings = doors[door]!.settings
        let policy = AccessPolicy.decide(method: method, holder: holder, door: settings.policy, now: wall)
        guard policy.isGranted, let holder else { return policy }
        let resident = holder.residentID
        if doors[door]!.lockedDown { return AccessDecision(result: .denied, reason: .lockedDown, residentID: resident) }
        let ruleMode: VerifyMode
        switch rules.verdict(for: holder, door: door, at: wall) {
        case .denied(let reason): return AccessDecision(result: .denied, reason: reason, residentID: resident)
        case .allowed(let mode): ruleMode = mode
        }
        switch verify(method, holder: holder, mode: ruleMode == .any ? settings.verifyMode : ruleMode, door: door, now: now,
                      presentedAt: presentedAt, unitTyped: unitTyped, detail: &detail) {
        case .denied(let reason): return AccessDecision(result: .denied, reason: reason, residentID: resident)
        case .allowed: break
        }
        if let rule = settings.antiPassback, !passesAntiPassback(resident, rule: rule, door: door, wall: wall, into: &effects) {
            return AccessDecision(result: .denied, reason: .antiPassback, residentID: resident)
        }
        return AccessDecision(result: .granted, reason: .valid, residentID: resident)
    }

    /// The verify mode: whether this credential completes what the door asks of the resident now.
    private mutating func verify(_ method: AccessMethod, holder: CredentialHolder, mode: VerifyMode, door: String, now: Instant,
                                 presentedAt: Instant, unitTyped: Bool, detail: inout [String: String]) -> RuleVerdict {
        // Face is never the only way (R1): a resident without a face template uses card + PIN instead.
        let mode = mode == .facePin && !holder.hasFace ? .cardPin : mode
        switch mode {
        case .any:
            return .allowed(.any)
        case .unitPin:
            return method == .pin && unitTyped ? .allowed(mode) : .denied(.secondFactorNeeded)
        case .cardPin, .facePin:
            let first: AccessMethod = mode == .cardPin ? .card : .face
            if method == first {
                doors[door]!.secondFactor = SecondFactorWait(residentID: holder.residentID, first: first,
                                                             until: now.advanced(by: settings.secondFactor))
                detail["awaiting"] = "pin"
                return .denied(.secondFactorNeeded)
            }
            guard method == .pin, let wait = doors[door]!.secondFactor, presentedAt < wait.until, wait.residentID == holder.residentID else {
                return .denied(.secondFactorNeeded)
            }
            doors[door]!.secondFactor = nil
            detail["firstFactor"] = wait.first.rawValue
            return .allowed(mode)
        }
    }

    /// Anti-passback: entering an area the resident is already inside (within the presence timeout) is
    /// refused (hard) or let in with an alarm entry (soft); leaving it clears the presence.
    private mutating func passesAntiPassback(_ resident: String, rule: AntiPassback, door: String, wall: WallTime,
                                             into effects: inout [Effect]) -> Bool {
        let key = PresenceKey(residentID: resident, area: rule.area)
        switch rule.direction {
        case .exit:
            if presence.removeValue(forKey: key) != nil { effects.append(.savePresence([key: nil])) }
            return true
        case .entry:
            if let since = presence[key], wall < since.advanced(by: settings.presenceTimeout) {
                if rule.mode == .hard { return false }
                effects.append(.audit(AuditIntent(time: wall, category: .alarm, action: .door(.alarm, .reason(.antiPassback)), door: door,
                                                  result: .alarm, reason: .antiPassback, residentID: resident,
                                                  detail: ["area": rule.area, "mode": rule.mode.rawValue])))
            }
            presence[key] = wall
            effects.append(.savePresence([key: wall]))
            return true
        }
    }

    // MARK: Time

    private mutating func tick(now: Instant, wall: WallTime, into effects: inout [Effect]) {
        for name in doors.keys.sorted() {
            perform(doors[name]!.lock.tick(at: now), door: name, wall: wall, into: &effects)
            var timedOut = false
            for keypad in doors[name]!.keypads.keys where doors[name]!.keypads[keypad]!.tick(at: now) == .timedOut { timedOut = true }
            doors[name]!.keypads = doors[name]!.keypads.filter { $0.value.state != .idle }
            if timedOut { effects.append(.log(LogLine(.debug, "keypad entry timed out", ["door.id": name]))) }
        }
        if let deadline = rulesDeadline, deadline <= now { updatePassage(now: now, wall: wall, into: &effects) }
    }

    /// Holds each door open while the rules say passage and nothing overrides it (lockdown; fire holds it
    /// open anyway), and sets a timer for the rules' next change.
    private mutating func updatePassage(now: Instant, wall: WallTime, into effects: inout [Effect]) {
        for name in doors.keys.sorted() {
            let passage = !doors[name]!.lockedDown && rules.isPassage(door: name, at: wall)
            if doors[name]!.inPassage != passage || (passage && doors[name]!.lock.lock == .locked) {
                doors[name]!.inPassage = passage
                perform(doors[name]!.lock.hold(passage, at: now), door: name, wall: wall, into: &effects)
            }
        }
        rulesDeadline = rules.nextChange(after: wall).map { change in
            now.advanced(by: .milliseconds(max(0, change.millisecondsSince1970 - wall.millisecondsSince1970)))
        }
    }

    private mutating func scheduleTimers(now: Instant, into effects: inout [Effect]) {
        scheduled = scheduled.filter { $0 > now }
        var deadlines: [Instant] = rulesDeadline.map { [$0] } ?? []
        for door in doors.values {
            if let deadline = door.lock.nextDeadline { deadlines.append(deadline) }
            deadlines += door.keypads.values.compactMap(\.nextDeadline)
        }
        for deadline in deadlines.sorted() where !scheduled.contains(deadline) {
            scheduled.insert(deadline)
            effects.append(.wake(at: deadline))
        }
    }

    // MARK: Effects

    private mutating func perform(_ actions: [DoorAction], door: String, wall: WallTime, into effects: inout [Effect]) {
        for action in actions {
            switch action {
            case .unlock:
                effects.append(.setLock(door: door, released: true))
            case .lock:
                effects.append(.setLock(door: door, released: false))
            case .raise(let raised):
                alarm(DecisionReason(raised), door: door, method: raised == .fire ? .fire : nil, wall: wall, into: &effects)
            case .clear(let cleared):
                let reason: DecisionReason = cleared == .fire ? .fireCleared : .doorClosed
                record(AccessDecision(result: .cleared, reason: reason), method: cleared == .fire ? .fire : nil, door: door, now: nil,
                       wall: wall, into: &effects, category: .alarm, detail: ["alarm": cleared.rawValue])
            }
        }
    }

    private mutating func alarm(_ reason: DecisionReason, door: String, method: AccessMethod?, wall: WallTime, into effects: inout [Effect]) {
        record(AccessDecision(result: .alarm, reason: reason), method: method, door: door, now: nil, wall: wall, into: &effects, category: .alarm)
    }

    /// An audit entry for a decision, unless it is a repeatable denial inside a flood window (`DenialCollapser`).
    /// `now` is needed only for denials that may be collapsed.
    private mutating func record(_ decision: AccessDecision, method: AccessMethod?, door: String, operator op: String? = nil,
                                 now: Instant?, wall: WallTime, into effects: inout [Effect], category: AuditCategory = .access,
                                 detail: [String: String] = [:]) {
        if decision.result == .granted || decision.result == .denied {
            effects.append(.decided(door: door, decision))
        }
        if decision.result == .denied, DenialKey.collapsible.contains(decision.reason), let now,
           denials.admit(DenialKey(door: door, method: method, reason: decision.reason), at: now) == .collapse {
            return
        }
        let journal: JournalMessage = decision.reason == .noMatch ? .faceNoMatch : category == .alarm ? .doorAlarm : .accessDecision
        var intent = AuditIntent(
            time: wall, category: category, action: .door(category, method: method, reason: decision.reason),
            door: door, method: method, result: decision.result, reason: decision.reason, residentID: decision.residentID,
            operator: op, detail: detail, journal: journal
        )
        if category == .access, decision.result == .granted || decision.result == .denied, let method,
           AccessMethod.parityMethods.contains(method), let presentation {
            intent.latency = presentation.start.duration(to: presentation.now)
        }
        effects.append(.audit(intent))
    }

    /// One counted entry per closed flood window; `all` at shutdown.
    private mutating func closeDenialWindows(all: Bool, now: Instant, wall: WallTime, into effects: inout [Effect]) {
        let closed = all ? denials.closeAll() : denials.closeWindows(at: now)
        for window in closed {
            let start = wall.advanced(by: .zero - window.windowStart.duration(to: now))
            effects.append(.log(LogLine(.notice, "repeated denials collapsed into one entry", [
                "door.id": window.key.door, "decision.reason": window.key.reason.rawValue, "denials.count": "\(window.count)",
            ])))
            effects.append(.audit(AuditIntent(
                time: wall, category: .access, action: .deniedCollapsed, door: window.key.door,
                method: window.key.method, result: .denied, reason: window.key.reason,
                detail: ["count": String(window.count), "recordedIndividually": String(window.recorded),
                         "windowStartMs": String(start.millisecondsSince1970),
                         "windowSeconds": String(denials.rules.window.components.seconds)]
            )))
        }
    }

    private func reply(_ request: RequestID?, _ reply: GateReply, into effects: inout [Effect]) {
        if let request { effects.append(.reply(request, reply)) }
    }

    /// Replies with the door's state after the input, and the decision.
    private func replyState(_ request: RequestID?, door name: String, decision: AccessDecision?, into effects: inout [Effect]) {
        guard let request, let door = doors[name] else { return }
        let lock = door.lock
        let state = "door \(name): \(lock.isUnlocked ? "released" : "locked"), \(lock.isOpen ? "open" : "closed")"
            + (lock.activeAlarms.isEmpty ? "" : ", alarms \(lock.activeAlarms.map(\.rawValue).sorted().joined(separator: ","))")
        effects.append(.reply(request, .done(message: state, decision: decision)))
    }
}

/// What repeated denials are counted by: one flood window per door, method and reason.
public struct DenialKey: Sendable, Hashable {
    public var door: String
    public var method: AccessMethod?
    public var reason: DecisionReason

    /// Denials that an outsider can repeat at will (unknown cards, wrong or malformed PINs, strangers'
    /// faces, a locked keypad); a resident's own denials (expired, method disabled) are always recorded.
    public static let collapsible: Set<DecisionReason> = [
        .unknownCard, .unknownPin, .noMatch, .lockedOut, .pinTooShort, .pinTooLong, .livenessFailed,
    ]
}

extension DecisionReason {
    /// The reason an audit entry gives for a door or reader alarm.
    public init(_ alarm: DoorAlarm) {
        switch alarm {
        case .heldOpen: self = .heldOpen
        case .forcedOpen: self = .forcedOpen
        case .tamper: self = .tamper
        case .fire: self = .fireRelease
        case .readerOffline: self = .readerOffline
        case .readerTamper: self = .readerTamper
        }
    }
}
