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
            case .card(let card):
                guard let uid = CardUID(card) else { return .card(nil) }
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
            }
        } catch {
            return .failed(error: "\(error)")
        }
    }
}

extension CardUID {
    /// The card as the gate machine sees it (bytes).
    var presented: PresentedCard {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return PresentedCard(bytes: bytes)
    }

    init?(_ card: PresentedCard) {
        self.init(card.bytes.map { String($0, radix: 16, uppercase: true).leftPadded() }.joined())
    }
}

extension String {
    fileprivate func leftPadded() -> String { count < 2 ? "0" + self : self }
}

extension AuditRecord {
    /// The entry a machine's audit intent describes.
    init(_ intent: AuditIntent) {
        self.init(time: intent.time, category: intent.category, action: intent.action, door: intent.door, method: intent.method,
                  result: intent.result, reason: intent.reason, residentID: intent.residentID, operator: intent.operator,
                  detail: intent.detail)
    }
}
