import FaceVision
import Foundation
import GateControl
import GateCore
import GateHub
public import GateStore
import HTTPTypes
public import Hummingbird
public import Logging

/// Where the console finds the store and the daemon, and its limits.
public struct ConsoleSettings: Sendable {
    public var stateDirectory: String
    public var socketPath: String
    public var policy = ConsoleAccountPolicy()
    /// Sign-in attempts per account name per minute, and for the whole console.
    public var loginAttemptsPerName = 30
    public var loginAttemptsOverall = 120
    /// How often the live feed looks for new events and door states.
    public var livePoll: Duration = .milliseconds(500)
    /// The console's CA certificate (PEM) when it serves TLS, offered at `/ca.crt` (ConsoleTLS).
    public var caCertificatePEM: String?
    /// Whether the console serves HTTPS: then only an `https://` Origin is its own.
    public var tls = false
    /// The daemon's configuration for the compliance page (default: /etc/optgate/optgated.json when it exists).
    public var daemonConfigurationPath: String?

    public init(stateDirectory: String, socketPath: String) {
        self.stateDirectory = stateDirectory
        self.socketPath = socketPath
    }
}

/// Every console route, each stating which roles may use it (docs/console.md#roles). Changes go through the
/// same `GateDatabase` methods as the CLI, with the console user as operator (`console:NAME`); door commands
/// go to the daemon's control socket.
public struct ConsoleRoutes: Sendable {
    let database: GateDatabase
    /// Residents, cards, consent, visitors and events: the local store or the hub (`ConsoleDirectory.swift`).
    let directory: ConsoleDirectory
    let settings: ConsoleSettings
    let pages: ConsolePages
    let limiter: LoginRateLimiter
    let logger: Logger

    public init(database: GateDatabase, settings: ConsoleSettings, pages: ConsolePages, logger: Logger, backend: ConsoleBackend = .local) {
        self.database = database
        directory = ConsoleDirectory(database: database, backend: backend, logger: logger)
        self.settings = settings
        self.pages = pages
        self.logger = logger
        limiter = LoginRateLimiter(perName: settings.loginAttemptsPerName, overall: settings.loginAttemptsOverall)
    }

    /// The router with the guard in front of every route.
    public func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: ConsoleGuard(database: database, policy: settings.policy, pages: pages, tls: settings.tls))
        router.get("/static/:file") { _, context in
            guard let file = context.parameters.get("file"), let response = pages.staticFile(file) else { throw ConsoleRefusal.notFound }
            return response
        }
        router.get("/lang/:code") { request, context in
            let code = context.parameters.get("code") == "en" ? "en" : "zh"
            let next = request.uri.queryParameters["next"].map(String.init).flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") && !$0.contains("\\") ? $0 : nil } ?? "/"
            var response = Response(status: .seeOther, headers: [.location: next])
            response.setCookie(Cookie(name: "lang", value: code, maxAge: 365 * 86400, path: "/", secure: true, httpOnly: true, sameSite: .strict))
            return response
        }
        router.get("/setup") { _, context in try setupPage(context: context) }
        router.post("/setup") { _, context in try completeSetup(context: context) }
        router.get("/login") { _, context in
            if try !database.consoleIsSetUp() { return Response(status: .seeOther, headers: [.location: "/setup"]) }
            return pages.page("login", [:], context: context)
        }
        router.post("/login") { _, context in try login(context: context) }
        router.post("/logout") { _, context in
            if let token = context.token { try database.consoleLogout(token: token) }
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(ConsoleCookie.session("", maxAge: 0))
            return response
        }
        router.get("/") { _, context in try await dashboard(context: context) }
        router.get("/live") { _, context in
            let session = try context.require(.administrator, .manager, .guard, .auditor)
            return LiveFeed(database: database, directory: directory, socketPath: settings.socketPath, poll: settings.livePoll, policy: settings.policy,
                            token: context.token ?? "", user: session.user).response()
        }
        // On a hub the events are the ones the gates pushed (no filters or exports there yet); on a box, the filtered page.
        router.get("/events") { request, context in
            directory.isHub ? try await eventsPage(context: context) : try filteredEventsPage(request: request, context: context)
        }
        addEvidenceRoutes(router)
        addResidentRoutes(router)
        addDoorAndVisitorRoutes(router)
        addResidentEditRoutes(router)
        addUserRoutes(router)
        return router
    }

    // MARK: sign-in

    func setupPage(context: ConsoleContext) throws -> Response {
        if try database.consoleIsSetUp() { return Response(status: .seeOther, headers: [.location: "/login"]) }
        return pages.page("setup", [:], context: context)
    }

    func completeSetup(context: ConsoleContext) throws -> Response {
        guard limiter.allow(name: "setup") else { throw ConsoleRefusal.tooManyAttempts }
        let name = context.form["name"] ?? "", password = context.form["password"] ?? ""
        do {
            try database.completeConsoleSetup(token: (context.form["token"] ?? "").trimmingCharacters(in: .whitespaces),
                                              name: name, password: password, policy: settings.policy)
        } catch let error as ConsoleAccountError {
            return pages.page("setup", ["error": error.description, "name": name], context: context, status: .badRequest)
        }
        logger.notice("console.setup.done")
        return try signIn(name: name, password: password, context: context)
    }

    func login(context: ConsoleContext) throws -> Response {
        let name = context.form["name"] ?? ""
        guard limiter.allow(name: name) else { throw ConsoleRefusal.tooManyAttempts }
        return try signIn(name: name, password: context.form["password"] ?? "", context: context)
    }

    private func signIn(name: String, password: String, context: ConsoleContext) throws -> Response {
        let words = ConsoleStrings.table(context.language)
        switch try database.consoleLogin(name: name, password: password, policy: settings.policy) {
        case .signedIn(_, let token):
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(ConsoleCookie.session(token, maxAge: Int(settings.policy.sessionLifetime.components.seconds)))
            return response
        case .wrongPassword:
            return pages.page("login", ["error": words["loginFailed"] ?? "", "name": name], context: context, status: .unauthorized)
        case .locked:
            logger.warning("console.login.locked")
            return pages.page("login", ["error": words["locked"] ?? "", "name": name], context: context, status: .forbidden)
        }
    }

    // MARK: dashboard and events

    func dashboard(context: ConsoleContext) async throws -> Response {
        _ = try context.require(.administrator, .manager, .guard, .auditor)
        let status = try? ControlClient(path: settings.socketPath).send(ControlRequest(command: .status)).status
        let (events, counts) = try await directory.run { directory in
            (try await directory.directoryEvents(since: LiveFeed.startOfToday(), limit: 30),
             try await directory.decisionCounts(since: LiveFeed.startOfToday()))
        }
        let names = await directory.residentNames(events)
        let fleet = directory.isHub ? try await directory.gateSync() : []
        return pages.page("dashboard", [
            "doors": (status?.doors ?? []).map(LiveFeed.doorRow),
            "daemonDown": status == nil,
            "methods": counts.map(LiveFeed.countRow),
            "events": events.reversed().map { LiveFeed.eventRow($0, names: names) },
            "onHub": directory.isHub, "gates": fleet,
        ], context: context)
    }

    func eventsPage(context: ConsoleContext) async throws -> Response {
        _ = try context.require(.administrator, .manager, .guard, .auditor)
        // Guards see the day's events; the others the newest 500.
        let events = try await directory.run { try await $0.directoryEvents(since: LiveFeed.startOfToday(), limit: 500) }
        let names = await directory.residentNames(events)
        return pages.page("events", ["events": events.reversed().map { LiveFeed.eventRow($0, names: names) }], context: context)
    }

    // MARK: residents, cards, consent

    static let residentsShown = 200

    func addResidentRoutes(_ router: Router<ConsoleContext>) {
        router.get("/residents") { request, context in
            _ = try context.require(.manager, .auditor)
            let query = request.uri.queryParameters["q"].map(String.init) ?? ""
            // A page lists at most `residentsShown`; more matches ask for a narrower search (a hub may hold thousands).
            let residents = try await directory.residents(matching: query, limit: Self.residentsShown + 1)
            return pages.page("residents", ["residents": residents.prefix(Self.residentsShown).map { residentRow($0, context: context) },
                                            "q": query, "more": residents.count > Self.residentsShown], context: context)
        }
        router.post("/residents") { _, context in
            let session = try context.require(.manager)
            let name = (context.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
            let unit = (context.form["unit"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 100, !unit.isEmpty, unit.count <= 40 else {
                return pages.failure(ConsoleInputError("A resident needs a name (up to 100 characters) and a unit."), context: context)
            }
            var validUntil: WallTime?
            if let text = context.form["validUntil"], !text.isEmpty {
                guard let parsed = ConsoleDate.endOfDay(text) else {
                    return pages.failure(ConsoleInputError("A move-out date is YYYY-MM-DD."), context: context)
                }
                validUntil = parsed
            }
            let id = try await directory.run { [validUntil] in
                try await $0.addResident(name: name, unit: unit, validUntil: validUntil, site: nil, operator: session.operator)
            }
            return Response(status: .seeOther, headers: [.location: "/residents/\(id)"])
        }
        router.get("/residents/export.csv") { _, context in
            let session = try context.require(.manager, .auditor)
            var csv = "id,name,unit,validUntil,cards,pin,faceConsent,faceTemplates\r\n"
            for resident in try await directory.residents() {
                csv += [resident.id, resident.displayName, resident.unit, resident.validUntil.map(Self.time) ?? "",
                        resident.cards.map { "…\($0)" }.joined(separator: " "), resident.hasPIN ? "yes" : "no",
                        resident.faceConsent ? "yes" : "no", resident.templates.map(String.init) ?? "at each gate"].map(DisplayText.csvField).joined(separator: ",") + "\r\n"
            }
            try database.recordConsoleExport("residents", operator: session.operator)
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"residents.csv\""],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
        }
        router.get("/residents/:id") { _, context in
            _ = try context.require(.manager, .auditor)
            let resident = try await residentOrNotFound(context)
            return pages.page("resident", ["resident": residentRow(resident, context: context)], context: context)
        }
        router.post("/residents/:id/cards") { _, context in
            let session = try context.require(.manager)
            let resident = try await residentOrNotFound(context)
            guard let uid = CardUID(context.form["uid"] ?? "") else {
                return pages.failure(GateStoreError.invalidCardUID, context: context)
            }
            do {
                try await directory.run { try await $0.addCard(residentID: resident.id, uid: uid, operator: session.operator) }
            } catch {
                return pages.failure(error, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/residents/\(resident.id)"])
        }
        router.get("/residents/:id/consent") { request, context in
            _ = try context.require(.manager, .auditor)
            let resident = try await residentOrNotFound(context)
            let language = request.uri.queryParameters["notice"].map(String.init) == "en" ? "en" : (request.uri.queryParameters["notice"].map(String.init) == "zh" ? "zh" : context.language)
            return try await consentPage(resident, noticeLanguage: language, context: context)
        }
        router.post("/residents/:id/consent/grant") { _, context in
            let session = try context.require(.manager)
            let resident = try await residentOrNotFound(context)
            do {
                let notice = try NoticeLibrary.notice(version: context.form["noticeVersion"] ?? "", language: context.form["language"] == "en" ? "en" : "zh")
                let method = ConsentMethod(rawValue: context.form["method"] ?? "") ?? .console
                _ = try await directory.run { try await $0.recordConsentGrant(residentID: resident.id, notice: notice, method: method, operator: session.operator) }
            } catch {
                return pages.failure(error, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/residents/\(resident.id)/consent"])
        }
        router.post("/residents/:id/consent/withdraw") { _, context in
            let session = try context.require(.manager)
            let resident = try await residentOrNotFound(context)
            let method = ConsentMethod(rawValue: context.form["method"] ?? "") ?? .console
            do {
                let record = try await directory.run { try await $0.recordConsentWithdrawal(residentID: resident.id, method: method, operator: session.operator) }
                return pages.page("receipt", [
                    "resident": residentRow(resident, context: context), "ledgerEntry": record.ledgerEntry,
                    "deleted": record.templatesDeleted.map(String.init) ?? (ConsoleStrings.table(context.language)["atEachGate"] ?? "at each gate"),
                    "time": Self.time(record.time), "operator": record.operator, "method": record.method,
                    "device": record.device,
                ], context: context)
            } catch {
                return pages.failure(error, context: context)
            }
        }
    }

    func consentPage(_ resident: ConsoleResident, noticeLanguage: String, context: ConsoleContext) async throws -> Response {
        let version = NoticeLibrary.versions.last ?? ""
        let notice = try? NoticeLibrary.notice(version: version, language: noticeLanguage)
        let ledger = try await directory.run { try await $0.consentLedger(residentID: resident.id) }.map { record -> [String: Any] in
            ["id": record.id, "time": Self.time(record.time), "action": record.action, "notice": "v\(record.noticeVersion)/\(record.language)",
             "sha": String(record.noticeSHA256.prefix(12)), "method": record.method, "operator": record.operator,
             "scope": record.scope.joined(separator: ",")]
        }
        return pages.page("consent", [
            "resident": residentRow(resident, context: context), "notice": notice?.text ?? "", "noticeVersion": version,
            "noticeLanguage": noticeLanguage, "noticeSHA": notice.map { String($0.sha256.prefix(12)) } ?? "",
            "ledger": ledger, "hasLedger": !ledger.isEmpty,
        ], context: context)
    }

    func residentOrNotFound(_ context: ConsoleContext) async throws -> ConsoleResident {
        guard let id = context.parameters.get("id") else { throw ConsoleRefusal.notFound }
        return try await directory.resident(id)
    }

    func residentRow(_ resident: ConsoleResident, context: ConsoleContext) -> [String: Any] {
        let words = ConsoleStrings.table(context.language)
        return ["id": resident.id, "name": resident.displayName, "unit": resident.unit,
                "validUntil": resident.validUntil.map(Self.time) ?? "", "validUntilDay": resident.validUntil.map(Self.moveOutDay) ?? "", "cards": resident.cards.map { ["last4": $0] },
                "hasCards": !resident.cards.isEmpty, "pin": resident.hasPIN ? words["set"] ?? "" : words["notSet"] ?? "",
                "consent": resident.faceConsent, "consentText": resident.faceConsent ? words["active"] ?? "" : words["noConsent"] ?? "",
                "templates": resident.templates.map(String.init) ?? (words["atEachGate"] ?? "at each gate")]
    }

    // MARK: doors and visitors

    func addDoorAndVisitorRoutes(_ router: Router<ConsoleContext>) {
        router.get("/doors") { _, context in
            _ = try context.require(.manager, .guard)
            return doorsPage(message: nil, context: context)
        }
        router.post("/doors/open") { _, context in
            let session = try context.require(.manager, .guard)
            let reason = (context.form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...200).contains(reason.count), DisplayText.terminal(reason) == reason, !reason.contains(";") else {
                return pages.failure(ConsoleInputError("Please give a reason of 1 to 200 characters without control characters or semicolons."),
                                     context: context)
            }
            let door = context.form["door"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                let response = try ControlClient(path: settings.socketPath).send(
                    ControlRequest(command: .openDoor, door: door, operatorNote: "\(session.operator); reason: \(reason)"))
                guard response.ok else { return pages.failure(ConsoleInputError(response.error ?? "optgated refused"), context: context) }
                if let decision = response.decision, decision.result != .granted {
                    return pages.failure(ConsoleInputError("the door was not opened (\(decision.reason.rawValue))"), context: context)
                }
            } catch {
                return pages.failure(error, context: context)
            }
            logger.notice("console.door.open", metadata: ["door.id": "\(door ?? "default")"])
            return doorsPage(message: ConsoleStrings.table(context.language)["opened"], context: context)
        }
        router.get("/visitors") { _, context in
            _ = try context.require(.manager, .guard)
            return try await visitorsPage(context: context)
        }
        router.post("/visitors") { _, context in
            let session = try context.require(.manager, .guard)
            let doors = (context.form["door"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let hours = Int(context.form["hours"] ?? "") ?? 0
            let uses = Int(context.form["uses"] ?? "") ?? 0
            let name = (context.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !doors.isEmpty, (1...(24 * 90)).contains(hours), (1...1000).contains(uses), name.count <= 100 else {
                return pages.failure(ConsoleInputError("A pass needs a door, 1 to 2160 hours and 1 to 1000 uses."), context: context)
            }
            let issued = try await directory.run {
                try await $0.issueVisitorPass(doors: doors, validFor: .seconds(hours * 3600), uses: uses, name: name.isEmpty ? nil : name,
                                              site: nil, operator: session.operator)
            }
            let png = try Self.qrPNG(issued.qr)
            return pages.page("pass", [
                "id": issued.pass.id, "code": issued.code, "qr": "data:image/png;base64,\(png.base64EncodedString())",
                "doors": issued.pass.doors.joined(separator: ", "), "validUntil": Self.time(issued.pass.validUntil),
                "uses": issued.pass.usesTotal, "name": issued.pass.name ?? "",
            ], context: context)
        }
    }

    func doorsPage(message: String?, context: ConsoleContext) -> Response {
        let status = try? ControlClient(path: settings.socketPath).send(ControlRequest(command: .status)).status
        return pages.page("doors", ["doors": (status?.doors ?? []).map(LiveFeed.doorRow), "daemonDown": status == nil,
                                    "message": message ?? ""], context: context)
    }

    func visitorsPage(context: ConsoleContext) async throws -> Response {
        let status = try? ControlClient(path: settings.socketPath).send(ControlRequest(command: .status)).status
        let now = WallTime.current()
        let passes = try await directory.run { try await $0.visitorPasses() }.reversed().prefix(50).map { pass -> [String: Any] in
            ["id": pass.id, "name": pass.name ?? "", "doors": pass.doors.joined(separator: ", "), "uses": "\(pass.usesLeft)/\(pass.usesTotal)",
             "validUntil": Self.time(pass.validUntil),
             "state": pass.doors.first.flatMap { pass.refusal(at: $0, wall: now) }?.rawValue ?? "valid", "revocable": pass.revokedAt == nil]
        }
        return pages.page("visitors", ["doors": (status?.doors ?? []).map { ["name": $0.name] },
                                       "firstDoor": status?.doors.first?.name ?? "", "passes": Array(passes)], context: context)
    }

    /// The pass's QR code as PNG bytes, written by the same code as `optgate visitor issue --qr`.
    static func qrPNG(_ text: String) throws -> Data {
        let path = NSTemporaryDirectory() + "optgate-console-qr-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try QRCodeImage.writePNG(text, to: path)
        guard let data = FileManager.default.contents(atPath: path) else { throw ConsoleInputError("the QR image could not be read back") }
        return data
    }

    // MARK: console users

    func addUserRoutes(_ router: Router<ConsoleContext>) {
        router.get("/users") { _, context in
            _ = try context.require(.administrator)
            return try usersPage(error: nil, context: context)
        }
        router.post("/users") { _, context in
            let session = try context.require(.administrator)
            do {
                guard let role = ConsoleRole(rawValue: context.form["role"] ?? "") else { throw ConsoleInputError("Please choose a role.") }
                try database.addConsoleUser(name: context.form["name"] ?? "", role: role, password: context.form["password"] ?? "",
                                            operator: session.operator, policy: settings.policy)
            } catch let error as ConsoleAccountError {
                return try usersPage(error: error.description, context: context)
            } catch let error as ConsoleInputError {
                return try usersPage(error: error.description, context: context)
            }
            return Response(status: .seeOther, headers: [.location: "/users"])
        }
        router.post("/users/unlock") { _, context in
            let session = try context.require(.administrator)
            try database.unlockConsoleUser(name: context.form["name"] ?? "", operator: session.operator)
            return Response(status: .seeOther, headers: [.location: "/users"])
        }
    }

    func usersPage(error: String?, context: ConsoleContext) throws -> Response {
        let words = ConsoleStrings.table(context.language)
        let users = try database.consoleUsers().map { user -> [String: Any] in
            ["name": user.name, "role": words[user.role.rawValue] ?? user.role.rawValue, "failures": user.failedLogins, "locked": user.locked]
        }
        return pages.page("users", ["users": users, "error": error ?? "",
                                    "roles": ConsoleRole.allCases.map { ["value": $0.rawValue, "label": words[$0.rawValue] ?? $0.rawValue] }],
                          context: context, status: error == nil ? .ok : .badRequest)
    }

    static func time(_ time: WallTime) -> String {
        time.date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }
}

/// A form value the console refuses, as a sentence.
struct ConsoleInputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
