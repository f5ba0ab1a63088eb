/// What the decision store holds, for `optgate status` and the filing counter (R14).
public struct StoreCounts: Sendable, Hashable, Codable {
    public var residents: Int
    public var cards: Int
    public var pins: Int
    /// Residents whose newest consent record is a grant.
    public var activeConsents: Int
    public var faceTemplates: Int
    /// Residents with at least one face template.
    public var peopleWithFaceData: Int
    public var auditEntries: Int

    public init(residents: Int, cards: Int, pins: Int, activeConsents: Int, faceTemplates: Int, peopleWithFaceData: Int,
                auditEntries: Int) {
        self.residents = residents
        self.cards = cards
        self.pins = pins
        self.activeConsents = activeConsents
        self.faceTemplates = faceTemplates
        self.peopleWithFaceData = peopleWithFaceData
        self.auditEntries = auditEntries
    }

    /// The counts by their names (the JSON keys), sorted by name: how `status` prints them.
    public var named: [String: Int] {
        [
            "residents": residents, "cards": cards, "pins": pins, "activeConsents": activeConsents,
            "faceTemplates": faceTemplates, "peopleWithFaceData": peopleWithFaceData, "auditEntries": auditEntries,
        ]
    }

    /// The counts from their names. - Returns: `nil` unless every count is there (an empty dictionary: the
    /// store could not be read).
    public init?(named counts: [String: Int]) {
        guard let residents = counts["residents"], let cards = counts["cards"], let pins = counts["pins"],
              let activeConsents = counts["activeConsents"], let faceTemplates = counts["faceTemplates"],
              let peopleWithFaceData = counts["peopleWithFaceData"], let auditEntries = counts["auditEntries"]
        else { return nil }
        self.init(residents: residents, cards: cards, pins: pins, activeConsents: activeConsents, faceTemplates: faceTemplates,
                  peopleWithFaceData: peopleWithFaceData, auditEntries: auditEntries)
    }
}
