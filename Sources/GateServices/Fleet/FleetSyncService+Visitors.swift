import GateHub
import GateStore

extension FleetSyncService {
    /// Reports the visitor passes used here since the last report (docs/fleet.md#visitor-passes): the hub counts
    /// them against the pass, and the `visitor` change it logs lowers the uses left at the site's other gates.
    func pushVisitorUses(_ hub: Hub) async throws {
        var pushed = try await hub.visitorUsesPushedUpTo()
        while true {
            let uses = try database.localVisitorUses(after: pushed, limit: 500)
            guard let last = uses.last else { break }
            try await hub.pushVisitorUses(uses)
            pushed = last.seq
        }
    }
}
