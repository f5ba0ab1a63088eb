public import GateCore

/// The `compliance` section (docs/compliance.md) and the retention keys that protect compliance records.
public struct ComplianceConfiguration: Sendable, Hashable {
    /// `compliance.filingWarnAt` (array of whole numbers, default [80000, 95000]): people with face data at
    /// which the daemon raises one `filing.threshold` alarm each.
    public var filingWarnAt: [Int] = [80_000, 95_000]
    /// `compliance.filingThreshold` (whole number, default 100000): the CAC filing threshold (R14).
    public var filingThreshold: Int = 100_000
    /// `compliance.filingDeadlineWorkingDays` (1–365, default 30).
    public var filingDeadlineWorkingDays: Int = 30
    /// `compliance.controller` (string, default none): the personal-information controller named on the sign
    /// and in the impact assessment, e.g. the property company.
    public var controller: String?
    /// `compliance.contact` (string, default none): how residents reach the controller (phone, office).
    public var contact: String?
    /// `compliance.purpose` (string, default: entry to the compound): the purpose of face recognition.
    public var purpose: String?

    public init() {}

    /// The minimum any retention of the consent ledger and of impact assessments may be (R13): three years.
    public static let minimumRecordDays = 1096
}

/// Retention of compliance records (`retention.consentLedgerDays`, `retention.assessmentDays`): optional,
/// and when given at least three years. They document a choice; optgate never purges either kind.
public struct ComplianceRetention: Sendable, Hashable {
    public var consentLedgerDays: Int?
    public var assessmentDays: Int?
}

extension DaemonConfiguration {
    static func readCompliance(_ root: inout ConfigObject) throws(ConfigurationError) -> ComplianceConfiguration {
        var object = try root.object("compliance")
        var compliance = ComplianceConfiguration()
        if object.has("filingWarnAt") {
            let raw = try object.numberArray("filingWarnAt", range: 1...100_000_000) ?? []
            guard raw.allSatisfy({ $0 == $0.rounded() }) else {
                throw ConfigurationError(key: "compliance.filingWarnAt", problem: "expected whole numbers")
            }
            compliance.filingWarnAt = raw.map { Int($0) }.sorted()
        }
        compliance.filingThreshold = try object.integer("filingThreshold", default: 100_000, range: 1...100_000_000)
        if let above = compliance.filingWarnAt.first(where: { $0 >= compliance.filingThreshold }) {
            throw ConfigurationError(key: "compliance.filingWarnAt",
                                     problem: "\(above) is not below compliance.filingThreshold (\(compliance.filingThreshold)): a warning comes before the filing")
        }
        compliance.filingDeadlineWorkingDays = try object.integer("filingDeadlineWorkingDays", default: 30, range: 1...365)
        compliance.controller = try object.string("controller", default: nil)
        compliance.contact = try object.string("contact", default: nil)
        compliance.purpose = try object.string("purpose", default: nil)
        try object.finish()
        return compliance
    }

    static func readComplianceRetention(_ retention: inout ConfigObject) throws(ConfigurationError) -> ComplianceRetention {
        var result = ComplianceRetention()
        for key in ["consentLedgerDays", "assessmentDays"] where retention.has(key) {
            let days = try retention.integer(key, default: ComplianceConfiguration.minimumRecordDays, range: 1...36_500)
            guard days >= ComplianceConfiguration.minimumRecordDays else {
                throw ConfigurationError(
                    key: "retention.\(key)",
                    problem: "\(days) days is less than three years (\(ComplianceConfiguration.minimumRecordDays) days): the consent ledger and impact assessments must be kept at least three years (R13)")
            }
            if key == "consentLedgerDays" { result.consentLedgerDays = days } else { result.assessmentDays = days }
        }
        return result
    }
}

extension ComplianceConfiguration {
    public var filingThresholds: FilingThresholds {
        FilingThresholds(warnAt: filingWarnAt, filing: filingThreshold, deadlineWorkingDays: filingDeadlineWorkingDays)
    }
}
