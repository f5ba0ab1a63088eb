import GateCore
import Testing

/// The audit actions' raw values are stored in every audit row and hashed into the chain: they must
/// never change, and every stored value must read back as the action that wrote it.
@Suite struct AuditActionTests {
    /// Every raw value a release has written (before `AuditAction` existed they were string literals).
    static let stored: [(String, AuditAction)] = [
        ("access.card", .door(.access, .method(.card))),
        ("access.pin", .door(.access, .method(.pin))),
        ("access.face", .door(.access, .method(.face))),
        ("access.remote", .door(.access, .method(.remote))),
        ("access.rex", .door(.access, .method(.rex))),
        ("alarm.fire", .door(.alarm, .method(.fire))),
        ("alarm.heldOpen", .door(.alarm, .reason(.heldOpen))),
        ("alarm.forcedOpen", .door(.alarm, .reason(.forcedOpen))),
        ("alarm.tamper", .door(.alarm, .reason(.tamper))),
        ("alarm.keypadLockout", .door(.alarm, .reason(.keypadLockout))),
        ("access.denied.collapsed", .deniedCollapsed),
        ("pin.ambiguous", .pinAmbiguous),
        ("daemon.start", .daemonStart),
        ("daemon.stop", .daemonStop),
        ("audit.resumed", .auditResumed),
        ("audit.reanchor", .auditReanchor),
        ("resident.add", .residentAdd),
        ("resident.erase", .residentErase),
        ("card.add", .cardAdd),
        ("card.remove", .cardRemove),
        ("pin.set", .pinSet),
        ("pin.clear", .pinClear),
        ("consent.grant", .consentGrant),
        ("consent.withdraw", .consentWithdraw),
        ("face.enroll", .faceEnroll),
        ("face.delete", .faceDelete),
        ("events.purge", .eventsPurge),
        ("door.lockdown", .doorLockdown),
        ("alarm.duress", .door(.alarm, .reason(.duress))),
        ("alarm.antiPassback", .door(.alarm, .reason(.antiPassback))),
        ("pin.setDuress", .pinSetDuress),
        ("resident.update", .residentUpdate),
        ("resident.moveOut", .residentMoveOut),
        ("schedule.add", .scheduleAdd),
        ("calendar.import", .calendarImport),
        ("group.add", .groupAdd),
        ("door.passage", .doorPassage),
        ("visitor.issue", .visitorIssue),
        ("visitor.revoke", .visitorRevoke),
        ("visitor.purge", .visitorPurge),
        ("notice.add", .noticeAdd),
        ("filing.threshold", .filingThreshold),
        ("compliance.assessment", .complianceAssessment),
        ("fleet.stale", .fleetStale),
        ("fleet.auditDiverged", .fleetAuditDiverged),
        ("fleet.hubRolledBack", .fleetHubRolledBack),
        ("access.visitor", .door(.access, .method(.visitor))),
        ("alarm.readerOffline", .door(.alarm, .reason(.readerOffline))),
        ("alarm.readerTamper", .door(.alarm, .reason(.readerTamper))),
        ("access.livenessFailed", .door(.access, .reason(.livenessFailed))),
        ("console.setup", .console(.setup)),
        ("console.login", .console(.login)),
        ("console.logout", .console(.logout)),
        ("console.lockout", .console(.lockout)),
        ("console.userAdd", .console(.userAdd)),
        ("console.unlock", .console(.unlock)),
        ("console.export", .console(.export)),
    ]

    @Test func rawValuesAreTheStoredStrings() {
        for (raw, action) in Self.stored {
            #expect(action.rawValue == raw)
            #expect(AuditAction(rawValue: raw) == action, "\(raw)")
        }
    }

    @Test func aDoorEntryIsNamedByMethodElseByReason() {
        #expect(AuditAction.door(.access, method: .card, reason: .valid).rawValue == "access.card")
        #expect(AuditAction.door(.access, method: nil, reason: .exitRequest).rawValue == "access.exitRequest")
        #expect(AuditAction.door(.alarm, method: nil, reason: .heldOpen).rawValue == "alarm.heldOpen")
        for category in [AuditCategory.access, .alarm] {
            for reason in DecisionReason.allCases {
                let action = AuditAction.door(category, method: nil, reason: reason)
                #expect(AuditAction(rawValue: action.rawValue) == action)
            }
        }
    }

    @Test(arguments: ["", "access", "access.", "access.nothing", "system.card", "admin.card", "resident.erase.x", "Card.add", "console.", "console.nothing"])
    func unknownTextIsNoAction(_ text: String) {
        #expect(AuditAction(rawValue: text) == nil)
    }

    @Test func onlyEraseAndPurgeRedact() {
        #expect(Self.stored.filter { $0.1.redacts }.map(\.0).sorted() == ["events.purge", "resident.erase"])
    }
}
