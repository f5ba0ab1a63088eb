import Foundation
import GateConfiguration
import GateCore
import GateHub
import GateStore
import Hummingbird

/// The manager's changes to an existing resident and to visitor passes (issue 15's pages that were still missing):
/// move-out date, PIN in a masked field, card removal, visitor pass revocation. Each goes through the same
/// `ManagementDirectory` call as the CLI (local store or hub), with the console user as operator; manager only.
extension ConsoleRoutes {
    func addResidentEditRoutes(_ router: Router<ConsoleContext>) {
        // Move-out date: YYYY-MM-DD (the end of that day), or empty to clear it. A date in the past ends every
        // credential of the resident at once (the gate denies with `expired`).
        router.post("/residents/:id/moveout") { _, context in
            let session = try context.require(.manager)
            let resident = try await residentOrNotFound(context)
            let text = (context.form["validUntil"] ?? "").trimmingCharacters(in: .whitespaces)
            var validUntil: WallTime?
            if !text.isEmpty {
                guard let parsed = ConsoleDate.endOfDay(text) else {
                    return pages.failure(ConsoleInputError("A move-out date is YYYY-MM-DD."), context: context)
                }
                validUntil = parsed
            }
            do {
                try await directory.run { [validUntil] in
                    try await $0.updateResident(resident.id, change: ResidentChange(validUntil: .set(validUntil)), operator: session.operator)
                }
            } catch {
                return pages.failure(error, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/residents/\(resident.id)"])
        }

        // PIN set by the manager in a masked field. The same rules as `optgate pin set`: the daemon's configured
        // digits and strength rules (and not the resident's unit code), the lookup tag only for PIN-only keypads.
        // The PIN is never echoed, logged or put in an error; a refusal names only the rule it broke.
        router.post("/residents/:id/pin") { _, context in
            let session = try context.require(.manager)
            let resident = try await residentOrNotFound(context)
            do {
                guard let pin = PIN(context.form["pin"] ?? "") else {
                    throw ConsoleInputError("A PIN is digits only.")
                }
                let configuration = try settings.daemonConfiguration()
                let strength = configuration.pinStrength
                let lookupTag = configuration.pinEntry.mode == .pin
                if let weakness = strength.weakness(of: pin, unitCode: KeypadUnit.code(of: resident.unit)) {
                    throw GateStoreError.invalidPIN(weakness)
                }
                if directory.isHub {
                    try await directory.run { try await $0.setPIN(residentID: resident.id, pin: pin, lookupTag: lookupTag, operator: session.operator) }
                } else {
                    // The store's own check with the configured strength (the directory's uses the defaults).
                    try database.setPIN(residentID: resident.id, pin: pin, strength: strength, lookupTag: lookupTag, operator: session.operator)
                }
            } catch {
                return pages.failure(error, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/residents/\(resident.id)"])
        }

        // Card removal: the full UID is typed again (only a keyed hash and the last four digits are stored).
        router.post("/residents/:id/cards/remove") { _, context in
            let session = try context.require(.manager)
            let resident = try await residentOrNotFound(context)
            guard let uid = CardUID(context.form["uid"] ?? "") else {
                return pages.failure(GateStoreError.invalidCardUID, context: context)
            }
            do {
                try await directory.run { try await $0.removeCard(residentID: resident.id, uid: uid, operator: session.operator) }
            } catch {
                return pages.failure(error, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/residents/\(resident.id)"])
        }

        // Visitor pass revocation (manager; a guard issues passes but does not revoke them).
        router.post("/visitors/:id/revoke") { _, context in
            let session = try context.require(.manager)
            guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 64 else { throw ConsoleRefusal.notFound }
            do {
                try await directory.run { try await $0.revokeVisitorPass(id: id, operator: session.operator) }
            } catch VisitorPassError.notFound {
                throw ConsoleRefusal.notFound
            } catch {
                return pages.failure(error, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/visitors"])
        }
    }

    /// The day a move-out time ends (the form's YYYY-MM-DD): `ConsoleDate.endOfDay` stores the next midnight.
    static func moveOutDay(_ time: WallTime) -> String {
        let calendar = Calendar(identifier: .gregorian)
        let day = calendar.dateComponents([.year, .month, .day], from: time.date.addingTimeInterval(-0.001))
        return String(format: "%04d-%02d-%02d", day.year ?? 1970, day.month ?? 1, day.day ?? 1)
    }
}
