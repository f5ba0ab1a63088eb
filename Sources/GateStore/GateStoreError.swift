/// Errors of the store, phrased for the property manager who reads them.
public enum GateStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case stateDirectory(path: String, reason: String)
    case keyFile(path: String, reason: String)
    case residentNotFound(String)
    case invalidCardUID
    case cardAlreadyEnrolled(last4: String)
    case cardNotFound(residentID: String, last4: String)
    case invalidPIN(String)
    case noActiveConsent(residentID: String)
    case consentAlreadyActive(residentID: String)
    case unknownNoticeVersion(String, available: [String])
    case tooManyTemplates(residentID: String, limit: Int)
    case corruptTemplate(String)
    case database(String)
    case auditBroken(String)
    /// An access rule (schedule, calendar, group, passage, validity) that cannot be stored as given.
    case rules(String)

    public var description: String {
        switch self {
        case .stateDirectory(let path, let reason):
            "The state directory \(path) is not usable: \(reason)."
        case .keyFile(let path, let reason):
            "The device key file \(path) is not usable: \(reason)."
        case .residentNotFound(let id):
            "No resident has the id \(id)."
        case .invalidCardUID:
            "A card UID is 4 to 10 bytes written in hex, such as 04A1B2C3D4E5F6."
        case .cardAlreadyEnrolled(let last4):
            "The card ending in \(last4) is already enrolled; remove it from its holder first."
        case .cardNotFound(let residentID, let last4):
            "Resident \(residentID) has no card ending in \(last4)."
        case .invalidPIN(let reason):
            "The PIN was refused: \(reason)."
        case .noActiveConsent(let id):
            "Resident \(id) has no active face-recognition consent; record consent first (optgate consent grant)."
        case .consentAlreadyActive(let id):
            "Resident \(id) already has an active face-recognition consent with that scope; a new grant only changes the scope."
        case .unknownNoticeVersion(let version, let available):
            "There is no notice version \(version); available: \(available.joined(separator: ", "))."
        case .tooManyTemplates(let id, let limit):
            "Resident \(id) already has \(limit) face templates, the most allowed."
        case .corruptTemplate(let id):
            "The face template \(id) cannot be decrypted (wrong key file or damaged data)."
        case .database(let message):
            "The database refused the change: \(message)."
        case .auditBroken(let finding):
            "The audit chain itself is broken (\(finding)); it cannot be re-anchored until that is explained."
        case .rules(let problem):
            "The access rules were not changed: \(problem)."
        }
    }
}
