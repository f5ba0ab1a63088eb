public import GateCore
public import GateStore

/// Where the gate's credential lookups are answered: the database in the daemon, a scripted fake in tests.
/// Called on the executor's store queue, one lookup at a time; it may block (scrypt, SQLite).
public protocol CredentialDirectory: Sendable {
    /// - Returns: the answer, or `.failed` with a description of the error (never a credential).
    func answer(_ query: CredentialQuery) -> LookupAnswer
}

extension GateDatabase: CredentialDirectory {
    public func answer(_ query: CredentialQuery) -> LookupAnswer {
        do {
            switch query {
            case .card(let uid):
                return .card(try holder(ofCard: uid))
            case .pin(let pin, let unit):
                let match = if let unit { try holders(ofPIN: pin, unitCode: unit) } else { try holders(ofPIN: pin) }
                switch match {
                case .none: break
                case .one(let holder): return .pin(.one(holder))
                case .ambiguous(let count): return .pin(.ambiguous(count: count))
                }
                // Not a PIN: perhaps a resident's duress PIN.
                if let holder = try duressHolder(ofPIN: pin, unitCode: unit) { return .pin(.one(holder, duress: true)) }
                return .pin(.none)
            case .face(let residentID, let door):
                let found = try faceHolder(residentID: residentID, door: door)
                return .face(found.holder, inScope: found.inScope)
            case .visitorCode(let code, let door):
                return .visitor(try consumeVisitorPass(code: code, door: door))
            case .visitorQR(let payload, let door):
                return .visitor(try consumeVisitorPass(qr: payload, door: door))
            }
        } catch {
            return .failed(error: "\(error)")
        }
    }
}

extension AuditRecord {
    /// The entry a machine's audit intent describes.
    init(_ intent: AuditIntent) {
        self.init(time: intent.time, category: intent.category, action: intent.action, door: intent.door, method: intent.method,
                  result: intent.result, reason: intent.reason, residentID: intent.residentID, operator: intent.operator,
                  detail: intent.latency.map { intent.detail.merging(["latencyMs": String($0.wholeMilliseconds)]) { $1 } } ?? intent.detail)
    }
}
