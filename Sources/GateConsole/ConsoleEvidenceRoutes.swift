import Foundation
import GateConfiguration
import GateCore
import GateStore
import HTTPTypes
import Logging
import Hummingbird

/// The pages an auditor and a manager need as evidence (docs/console.md#pages): events with filters and exports,
/// the audit log's check and anchors, the compliance numbers, and data-subject requests (export, erasure with a
/// receipt). Every route states its roles; every export and erasure is in the audit log with the console user.
extension ConsoleRoutes {
    func addEvidenceRoutes(_ router: Router<ConsoleContext>) {
        // The CA certificate for the manager's browser: public (it is what makes the session's TLS trustworthy).
        router.get("/ca.crt") { _, _ in
            guard let pem = settings.caCertificatePEM else { throw ConsoleRefusal.notFound }
            return Response(status: .ok, headers: [.contentType: "application/x-x509-ca-cert",
                                                   .contentDisposition: "attachment; filename=\"optgate-console-ca.crt\""],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: pem)))
        }
        // High contrast and large text (a cookie, like the language): for a guard-room screen or weak eyes.
        router.get("/display/:mode") { request, context in
            let mode = context.parameters.get("mode") == "contrast" ? "contrast" : "normal"
            let back = request.headers[.referer].flatMap { URL(string: $0)?.path } ?? "/"
            let next = back.hasPrefix("/") && !back.hasPrefix("//") && !back.hasPrefix("/display/") ? back : "/"
            var response = Response(status: .seeOther, headers: [.location: next])
            response.setCookie(Cookie(name: "display", value: mode, maxAge: 365 * 86400, path: "/", secure: true, httpOnly: true, sameSite: .strict))
            return response
        }
        router.get("/events/export.csv") { request, context in try eventsExport(request: request, context: context, json: false) }
        router.get("/events/export.json") { request, context in try eventsExport(request: request, context: context, json: true) }
        router.get("/audit") { _, context in try auditPage(context: context) }
        router.get("/compliance") { _, context in try compliancePage(context: context) }
        router.post("/compliance/pia") { _, context in try impactAssessment(context: context) }
        router.get("/requests") { _, context in
            _ = try context.require(.manager, .auditor)
            let residents = try database.residents().map { ["id": $0.id, "name": $0.displayName, "unit": $0.unit] }
            return pages.page("requests", ["residents": residents, "hasResidents": !residents.isEmpty], context: context)
        }
        router.get("/requests/:id/export.json") { _, context in
            let session = try context.require(.manager, .auditor)
            if directory.isHub { return pages.failure(Self.requestsOnAHub, context: context) }
            let resident = try await residentOrNotFound(context)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(try database.export(residentID: resident.id))
            try database.recordConsoleExport("resident \(resident.id)", operator: session.operator)
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"resident-\(resident.id).json\""],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/requests/:id/erase") { _, context in
            let session = try context.require(.manager)
            if directory.isHub { return pages.failure(Self.requestsOnAHub, context: context) }
            let resident = try await residentOrNotFound(context)
            // The form repeats the resident's id: an erasure cannot be undone, so a stray click must not do it.
            guard context.form["confirm"] == resident.id else {
                return pages.failure(ConsoleInputError("To erase, type the resident's id (\(resident.id)) in the confirmation field."), context: context)
            }
            let receipt = try database.eraseResident(resident.id, operator: session.operator)
            logger.notice("console.resident.erased", metadata: ["audit.seq": "\(receipt.auditSeq)"])
            return pages.page("erasure", [
                "name": resident.displayName, "unit": resident.unit, "id": resident.id, "seq": receipt.auditSeq, "token": receipt.token,
                "time": Self.time(receipt.time), "blanked": receipt.blankedEntries, "operator": session.operator,
            ], context: context)
        }
    }

    /// Data-subject requests read and erase this box's store. On a hub the resident's record is the hub's and
    /// every gate's: erasing one box's copy would leave the rest, so the console refuses there (use
    /// `optgate --hub URL resident erase`, which every gate applies with a receipt).
    static let requestsOnAHub = ConsoleInputError(
        "Data-subject export and erasure in the console work on a single box; on a hub use `optgate --hub URL resident erase` (every gate applies it and sends a receipt).")

    // MARK: events

    /// The events page: filters for the roles that may look back; a guard sees today's events only.
    func filteredEventsPage(request: Request, context: ConsoleContext) throws -> Response {
        let session = try context.require(.administrator, .manager, .guard, .auditor)
        let filter = try EventFilter(request: request, todayOnly: session.role == .guard || session.role == .administrator)
        let events = try filter.events(database, limit: 500)
        let names = LiveFeed.residentNames(events, database: database)
        let canExport = [.manager, .auditor].contains(session.role)
        return pages.page("events", [
            "events": events.reversed().map { LiveFeed.eventRow($0, names: names) },
            "filter": filter.fields, "query": filter.query, "canExport": canExport, "canFilter": canExport,
            "count": events.count,
            "methods": AccessMethod.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == filter.method] },
            "results": ["granted", "denied", "alarm", "cleared"].map { ["value": $0, "selected": $0 == filter.result] },
        ], context: context)
    }

    func eventsExport(request: Request, context: ConsoleContext, json: Bool) throws -> Response {
        let session = try context.require(.manager, .auditor)
        let filter = try EventFilter(request: request, todayOnly: false)
        let events = try filter.events(database, limit: EventFilter.exportLimit)
        let names = LiveFeed.residentNames(events, database: database)
        let rows = events.map { EventExportRow($0, name: $0.residentID.flatMap { names[$0] }) }
        let body: ByteBuffer
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            body = ByteBuffer(bytes: try encoder.encode(rows))
        } else {
            var csv = "seq,time,door,method,result,reason,resident,residentID,operator,action,count\r\n"
            for row in rows {
                csv += [String(row.seq), row.time, row.door, row.method, row.result, row.reason, row.resident, row.residentID,
                        row.operator, row.action, String(row.count)].map(DisplayText.csvField).joined(separator: ",") + "\r\n"
            }
            body = ByteBuffer(string: csv)
        }
        try database.recordConsoleExport("events.\(json ? "json" : "csv") \(filter.query.isEmpty ? "all" : filter.query) (\(rows.count) rows)",
                                         operator: session.operator)
        return Response(status: .ok, headers: [.contentType: json ? "application/json; charset=utf-8" : "text/csv; charset=utf-8",
                                               .contentDisposition: "attachment; filename=\"events.\(json ? "json" : "csv")\""],
                        body: ResponseBody(byteBuffer: body))
    }

    // MARK: audit and compliance

    func auditPage(context: ConsoleContext) throws -> Response {
        _ = try context.require(.administrator, .manager, .auditor)
        let report = try database.auditReport()
        func head(_ head: SignedAuditHead?) -> [String: Any]? {
            head.map { ["seq": $0.seq, "hash": $0.shortHash, "time": Self.time($0.time)] }
        }
        let entries = try database.auditEntries(limit: 100).reversed().map { entry -> [String: Any] in
            ["seq": entry.seq, "time": entry.time.map(Self.time) ?? "", "category": entry.category ?? "", "action": entry.action ?? "",
             "operator": entry.operator ?? "", "detail": entry.detail ?? "", "redacted": entry.redactedBy.map { "redacted by \($0)" } ?? ""]
        }
        return pages.page("audit", [
            "intact": report.isIntact, "entriesCount": report.entries,
            "findings": report.findings.map { ["kind": $0.kind.rawValue, "seq": $0.seq, "message": $0.message] },
            "head": head(report.head) as Any, "anchor": head(report.anchor) as Any, "anchorPath": database.auditAnchorPath,
            "entries": Array(entries),
        ], context: context)
    }

    func compliancePage(context: ConsoleContext) throws -> Response {
        _ = try context.require(.manager, .auditor)
        let configuration = try settings.daemonConfiguration()
        let filing = try database.filingStatus(configuration.compliance.filingThresholds, zone: configuration.siteTimeZone)
        let parity = ParityRow.rows(try database.parityDecisions(since: nil, until: nil))
        let counts = try database.complianceCounts()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let parityRows = try parity.map { row -> [String: Any] in
            // The same row the CLI's `compliance parity --json` prints, shown as its fields.
            (try JSONSerialization.jsonObject(with: try encoder.encode(row)) as? [String: Any]) ?? [:]
        }
        return pages.page("compliance", [
            "filing": ["summary": filing.summary, "people": filing.people, "threshold": filing.filingThreshold,
                       "warnAt": filing.warnAt.map(String.init).joined(separator: ", "),
                       "crossed": filing.crossed.map(String.init).joined(separator: ", "),
                       "deadline": filing.filingDeadline ?? "", "daysLeft": filing.workingDaysLeft.map(String.init) ?? ""],
            "parity": parityRows.map { row in
                ["method": "\(row["method"] ?? "")", "fields": row.keys.sorted().filter { $0 != "method" }.map { ["name": $0, "value": "\(row[$0]!)"] }]
            },
            "hasParity": !parityRows.isEmpty,
            "counts": [
                ["name": "residents", "value": counts.residents], ["name": "residentsWithFace", "value": counts.residentsWithFace],
                ["name": "faceTemplates", "value": counts.faceTemplates], ["name": "activeConsents", "value": counts.activeConsents],
                ["name": "withdrawals", "value": counts.withdrawals], ["name": "erasures", "value": counts.erasures],
                ["name": "cards", "value": counts.cards], ["name": "pins", "value": counts.pins], ["name": "auditEntries", "value": counts.auditEntries],
            ],
            "assessments": try database.assessments().reversed().map {
                ["id": $0.id, "time": Self.time($0.time), "kind": $0.kind, "language": $0.language, "format": $0.format,
                 "sha": $0.sha256, "operator": $0.operator]
            },
        ], context: context)
    }
}

extension ConsoleRoutes {
    /// The impact assessment, drafted by the CLI's own code (`optgate compliance pia`, run as a child process, which
    /// records its SHA-256 and time as the CLI always does) and handed to the browser as a file; the console's
    /// audit entry names the console user.
    func impactAssessment(context: ConsoleContext) throws -> Response {
        let session = try context.require(.manager, .auditor)
        let language = context.form["language"] == "en" ? "en" : "zh"
        let format = context.form["format"] == "html" ? "html" : "md"
        let cli = ConsoleCLI.path()
        var arguments = ["compliance", "pia", "--state-dir", settings.stateDirectory, "--language", language, "--format", format]
        if let path = settings.daemonConfigurationPath { arguments += ["--config", path] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cli)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { throw ConsoleInputError("\(cli) could not be started: \(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, !data.isEmpty else {
            throw ConsoleInputError("optgate compliance pia failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let recorded = message.split(separator: "\n").first { $0.contains("recorded") }.map(String.init) ?? ""
        try database.recordConsoleExport("pia \(language) \(format): \(recorded)", operator: session.operator)
        return Response(status: .ok, headers: [.contentType: format == "html" ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8",
                                               .contentDisposition: "attachment; filename=\"pia-\(language).\(format)\""],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Where the CLI is: `$OPTGATE_CLI`, next to the console's executable (a build folder, /usr/bin), else /usr/bin/optgate.
enum ConsoleCLI {
    static func path() -> String {
        if let path = ProcessInfo.processInfo.environment["OPTGATE_CLI"] { return path }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("optgate").path
        return FileManager.default.isExecutableFile(atPath: beside) ? beside : "/usr/bin/optgate"
    }
}

extension ConsoleSettings {
    /// The daemon's configuration for the compliance numbers (thresholds, site time zone), read like the CLI does:
    /// `daemonConfigurationPath`, else `/etc/optgate/optgated.json` when it exists, else the defaults.
    func daemonConfiguration() throws -> DaemonConfiguration {
        let standard = "/etc/optgate/optgated.json"
        guard let file = daemonConfigurationPath ?? (FileManager.default.fileExists(atPath: standard) ? standard : nil) else { return .defaults }
        do {
            return try DaemonConfiguration(contentsOf: file)
        } catch {
            throw ConsoleInputError("\(file): \(error)")
        }
    }
}

/// The events page's and exports' filters, from the query string: `from`/`until` (YYYY-MM-DD, local days), `door`,
/// `method`, `result` and `resident` (an id, or part of a name). Bad values are refused with a sentence.
struct EventFilter {
    static let exportLimit = 100_000
    var from: String = ""
    var until: String = ""
    var door: String = ""
    var method: String = ""
    var result: String = ""
    var resident: String = ""
    var todayOnly: Bool

    init(request: Request, todayOnly: Bool) throws {
        self.todayOnly = todayOnly
        func value(_ name: String) -> String {
            (request.uri.queryParameters[Substring(name)].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        }
        if !todayOnly {
            from = value("from")
            until = value("until")
            door = value("door")
            method = value("method")
            result = value("result")
            resident = value("resident")
        }
        for (name, text) in [("from", from), ("until", until)] where !text.isEmpty && ConsoleDate.endOfDay(text) == nil {
            throw ConsoleInputError("The \(name) date is YYYY-MM-DD.")
        }
        if !method.isEmpty, AccessMethod(rawValue: method) == nil {
            throw ConsoleInputError("The method is one of \(AccessMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if !result.isEmpty, AccessResult(rawValue: result) == nil {
            throw ConsoleInputError("The result is one of granted, denied, alarm, cleared.")
        }
        if [door, resident].contains(where: { $0.count > 100 }) { throw ConsoleInputError("A filter is at most 100 characters.") }
    }

    /// The newest `limit` events that pass the filter, oldest first.
    func events(_ database: GateDatabase, limit: Int) throws -> [EventEntry] {
        var since = LiveFeed.startOfToday()
        if !todayOnly {
            // The day before `from` ends where `from` starts.
            since = from.isEmpty ? WallTime(millisecondsSince1970: 0) : WallTime(ConsoleDate.endOfDay(from)!.date.addingTimeInterval(-86400))
        }
        let end = until.isEmpty ? nil : ConsoleDate.endOfDay(until)
        let residentID = resident.hasPrefix("r") && resident.count > 8 && !resident.contains(" ") ? resident : nil
        var events = try database.events(since: since, residentID: residentID)
        var names: [String: String] = [:]
        if !resident.isEmpty, residentID == nil { names = LiveFeed.residentNames(events, database: database) }
        events = events.filter { event in
            (end == nil || event.time.millisecondsSince1970 < end!.millisecondsSince1970)
                && (door.isEmpty || event.door == door)
                && (method.isEmpty || event.method?.rawValue == method)
                && (result.isEmpty || event.result?.rawValue == result)
                && (resident.isEmpty || residentID != nil
                    || (event.residentID.flatMap { names[$0] }?.localizedCaseInsensitiveContains(resident) ?? false))
        }
        return Array(events.suffix(limit))
    }

    var fields: [String: String] {
        ["from": from, "until": until, "door": door, "method": method, "result": result, "resident": resident]
    }

    /// The filter as a query string for the export links (percent-encoded).
    var query: String {
        fields.keys.sorted().compactMap { key in
            guard let value = fields[key], !value.isEmpty else { return nil }
            return "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
    }
}

/// One event as the exports write it.
struct EventExportRow: Encodable {
    var seq: Int64
    var time: String
    var door: String
    var method: String
    var result: String
    var reason: String
    var resident: String
    var residentID: String
    var `operator`: String
    var action: String
    var count: Int

    init(_ event: EventEntry, name: String?) {
        seq = event.seq
        time = ConsoleRoutes.time(event.time)
        door = event.door ?? ""
        method = event.method?.rawValue ?? ""
        result = event.result?.rawValue ?? ""
        reason = event.reason?.rawValue ?? ""
        resident = name ?? ""
        residentID = event.residentID ?? ""
        self.operator = event.operator ?? ""
        action = event.action
        count = event.count
    }
}
