import Foundation
import GRDB
import GateCore

/// Who gave face-recognition consent on behalf of a resident under 14 (R6, PIPL art. 31), and how.
public struct GuardianConsent: Sendable, Hashable, Codable {
    public var name: String
    /// e.g. mother, father, legal guardian.
    public var relation: String
    /// How the guardian consented, e.g. signed paper form, in person at the office.
    public var method: String

    public init(name: String, relation: String, method: String) {
        self.name = name
        self.relation = relation
        self.method = method
    }

    init?(row: Row) {
        guard let name = row["guardianName"] as String?, let relation = row["guardianRelation"] as String?,
              let method = row["guardianMethod"] as String? else { return nil }
        self.init(name: name, relation: relation, method: method)
    }
}

/// A compliance rule the change would break, in a sentence.
public struct ComplianceError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension GateDatabase {
    /// Marks a resident as under 14 or not (a flag, never a birth date: R6 needs no more).
    ///
    /// Marking a resident under 14 while a face consent without a guardian's is in force is refused: that
    /// consent is not valid for a child; withdraw it first, then record the guardian's.
    public func setUnder14(_ residentID: String, _ under14: Bool, operator op: String) throws {
        try write { db in
            try requireResident(residentID, in: db)
            if under14, let active = try activeConsentID(for: residentID, in: db),
               try String.fetchOne(db, sql: "SELECT guardianName FROM consent WHERE id = ?", arguments: [active]) == nil {
                throw ComplianceError("Resident \(residentID) has face consent in force without a guardian's; withdraw it first (optgate consent withdraw), then record the guardian's consent.")
            }
            try db.execute(sql: "UPDATE resident SET under14 = ? WHERE id = ?", arguments: [under14, residentID])
            try audit(AuditRecord(time: now(), category: .admin, action: .residentUpdate, residentID: residentID, operator: op,
                                  detail: ["under14": under14 ? "yes" : "no"]), in: db)
        }
    }

    public func isUnder14(_ residentID: String) throws -> Bool {
        try read { db in
            try requireResident(residentID, in: db)
            return try Bool.fetchOne(db, sql: "SELECT under14 FROM resident WHERE id = ?", arguments: [residentID]) ?? false
        }
    }

    /// The guardian rule in Swift, so the CLI gets a sentence before the trigger would refuse.
    func requireGuardian(_ guardian: GuardianConsent?, for residentID: String, in db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT under14 FROM resident WHERE id = ?", arguments: [residentID]) == true else { return }
        guard let guardian, ![guardian.name, guardian.relation, guardian.method].contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty })
        else { throw ComplianceError("Resident \(residentID) is under 14: \(ComplianceSchema.guardianRequired).") }
    }
}
