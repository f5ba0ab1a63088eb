import GateCore
import GateStore
import Synchronization

/// The access rules as last loaded from the store, reloaded only when `rulesVersion()` moved (one
/// single-row read per decision), so a change made by `optgate schedule/group/calendar/door passage`
/// applies to the next decision without a restart.
final class RulesCache: Sendable {
    let database: GateDatabase
    private let cached = Mutex<(version: Int64, zone: SiteTimeZone, rules: AccessRules)?>(nil)

    init(database: GateDatabase) { self.database = database }

    /// The current rules read in `zone`. Blocking store work: call it on the store queue.
    /// - Throws: only when the store cannot be read and nothing was loaded before.
    func rules(zone: SiteTimeZone) throws -> AccessRules {
        let last = cached.withLock { $0 }
        do {
            let version = try database.rulesVersion()
            if let last, last.version == version, last.zone == zone { return last.rules }
            let rules = try database.accessRules(zone: zone)
            cached.withLock { $0 = (version, zone, rules) }
            return rules
        } catch {
            // A store that cannot be read keeps the rules it last gave.
            if let last, last.zone == zone { return last.rules }
            throw error
        }
    }
}
