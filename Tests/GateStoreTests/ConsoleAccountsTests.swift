import Foundation
import GRDB
import GateCore
import GateStore
import Testing

/// Console accounts in the store (docs/console.md#security): one-time setup token, slow password hashes,
/// hashed session tokens, lockout after 20 wrong passwords, expiry.
@Suite struct ConsoleAccountsTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    let password = "correct horse battery 9"

    func setUp() throws {
        let token = try #require(try fixture.store.newConsoleSetupToken())
        try fixture.store.completeConsoleSetup(token: token, name: "admin", password: password)
    }

    @Test func theSetupTokenCreatesOneAdministratorOnceAndIsStoredOnlyAsAHash() throws {
        let token = try #require(try fixture.store.newConsoleSetupToken())
        #expect(!fixture.filesContain(Data(token.utf8)))
        #expect(throws: ConsoleAccountError.badSetupToken) {
            try fixture.store.completeConsoleSetup(token: String(repeating: "0", count: 32), name: "mallory", password: password)
        }
        try fixture.store.completeConsoleSetup(token: token, name: "admin", password: password)
        #expect(throws: ConsoleAccountError.setupDone) {
            try fixture.store.completeConsoleSetup(token: token, name: "mallory", password: password)
        }
        #expect(try fixture.store.newConsoleSetupToken() == nil, "no new token once set up")
        #expect(try fixture.store.consoleUsers().map(\.name) == ["admin"])
        #expect(try fixture.store.consoleUsers().first?.role == .administrator)
        #expect(!fixture.filesContain(Data(password.utf8)), "the password is stored only as its scrypt hash")
    }

    @Test func aSessionIsFoundByItsTokenWhichIsNotStoredAndEndsAtLogoutOrExpiry() throws {
        try setUp()
        guard case .signedIn(let session, let token) = try fixture.store.consoleLogin(name: "admin", password: password) else {
            Issue.record("sign-in failed")
            return
        }
        #expect(session.operator == "console:admin" && session.csrf.count == 64 && token.count == 64)
        #expect(!fixture.filesContain(Data(token.utf8)))
        #expect(try fixture.store.consoleSession(token: token)?.user == "admin")
        #expect(try fixture.store.consoleSession(token: String(repeating: "a", count: 64)) == nil)
        try fixture.store.consoleLogout(token: token)
        #expect(try fixture.store.consoleSession(token: token) == nil)

        guard case .signedIn(_, let second) = try fixture.store.consoleLogin(name: "admin", password: password) else { return }
        fixture.clock.advance(days: 1)
        #expect(try fixture.store.consoleSession(token: second) == nil, "a day later the session has expired")
        let actions = try fixture.raw().read { try String.fetchAll($0, sql: "SELECT action FROM auditEntry ORDER BY seq") }
        #expect(actions.filter { $0.hasPrefix("console.") } == ["console.setup", "console.login", "console.logout", "console.login"])
    }

    @Test func twentyWrongPasswordsLockTheAccountAndEndItsSessions() throws {
        try setUp()
        try fixture.store.addConsoleUser(name: "li", role: .guard, password: password, operator: "console:admin")
        guard case .signedIn(_, let token) = try fixture.store.consoleLogin(name: "li", password: password) else { return }
        var policy = ConsoleAccountPolicy()
        policy.lockoutAfter = 20
        for attempt in 1...19 {
            #expect(try fixture.store.consoleLogin(name: "li", password: "wrong password \(attempt)", policy: policy) == .wrongPassword)
        }
        #expect(try fixture.store.consoleLogin(name: "li", password: "wrong password 20", policy: policy) == .locked)
        #expect(try fixture.store.consoleLogin(name: "li", password: password, policy: policy) == .locked, "even the right password")
        #expect(try fixture.store.consoleSession(token: token) == nil)
        try fixture.store.unlockConsoleUser(name: "li", operator: "console:admin")
        if case .signedIn = try fixture.store.consoleLogin(name: "li", password: password) {} else { Issue.record("not unlocked") }
        #expect(try fixture.store.consoleLogin(name: "nobody", password: password) == .wrongPassword)
    }

    @Test func weakPasswordsAndOddNamesAreRefused() throws {
        try setUp()
        #expect(throws: ConsoleAccountError.weakPassword(minimum: 12)) {
            try fixture.store.addConsoleUser(name: "wang", role: .manager, password: "short", operator: "console:admin")
        }
        #expect(throws: ConsoleAccountError.badName) {
            try fixture.store.addConsoleUser(name: "<b>wang</b>", role: .manager, password: password, operator: "console:admin")
        }
        #expect(throws: ConsoleAccountError.userExists("admin")) {
            try fixture.store.addConsoleUser(name: "admin", role: .manager, password: password, operator: "console:admin")
        }
    }
}
