public import GateCore

extension GateDatabase {
    /// The compound's access rules (groups, schedules, calendars, passage) as one value for the gate machine.
    public func accessRules() throws -> AccessRules {
        .open
    }

    /// A number that changes whenever the access rules change, cheap enough to read before every decision.
    public func rulesVersion() throws -> Int64 {
        0
    }
}
