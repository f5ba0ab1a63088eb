import Foundation
import GateControl
import GateCore
import GateHub
import GateStore
import HTTPTypes
import Hummingbird

/// The dashboard's server-sent events (`GET /live`): `doors` (lock, contact, alarms of every door) when they
/// change, `decision` for each new access or alarm event, `methods` (today's decisions by method). Polls the
/// daemon's status and the store every `poll`; ends when the browser goes away, the session ends, or after
/// an hour (the browser's EventSource reconnects by itself).
struct LiveFeed: Sendable {
    let database: GateDatabase
    /// Where the events come from: this box's store, or the hub the gates push to (`ConsoleDirectory`).
    let directory: ConsoleDirectory
    let socketPath: String
    let poll: Duration
    let policy: ConsoleAccountPolicy
    let token: String
    let user: String

    /// The newest decisions compared at each poll, as the dashboard lists them.
    static let window = 50

    func response() -> Response {
        let feed = self
        let body = ResponseBody { writer in
            var reader = ConsoleLiveReader(directory: feed.directory)
            do {
                try await feed.stream(to: &writer, reader: &reader)
            } catch {
                await reader.close()
                throw error
            }
            await reader.close()
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"], body: body)
    }

    private func stream(to writer: inout any ResponseBodyWriter, reader: inout ConsoleLiveReader) async throws {
        // Events already sent, by gate and sequence (a hub's events come from several gates, each numbering its own).
        var seen = Set(((try? await reader.read { try await $0.directoryEvents(since: Self.startOfToday(), limit: Self.window) }) ?? []).map(Self.key))
        var lastDoors = ""
        var lastMethods = ""
        let started = ContinuousClock.now
        var ticks = 0
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        while ContinuousClock.now - started < .seconds(3600) {
            ticks += 1
            if ticks % 20 == 0, (try? database.consoleSession(token: token, policy: policy)) == nil { break }
            var out = ""
            let status = try? ControlClient(path: socketPath).send(ControlRequest(command: .status)).status
            let doors = Self.json((status?.doors ?? []).map(Self.doorRow))
            if doors != lastDoors {
                out += "event: doors\ndata: \(doors)\n\n"
                lastDoors = doors
            }
            let newest = (try? await reader.read { try await $0.directoryEvents(since: Self.startOfToday(), limit: Self.window) }) ?? []
            let fresh = newest.filter { !seen.contains(Self.key($0)) }
            if !fresh.isEmpty {
                let ids = Set(fresh.compactMap(\.residentID))
                let names = ids.isEmpty ? [:] : (try? await reader.read { try await $0.displayNames(of: ids) }) ?? [:]
                for event in fresh { out += "event: decision\ndata: \(Self.json(Self.eventRow(event, names: names)))\n\n" }
                seen.formUnion(fresh.map(Self.key))
            }
            // The tally after new decisions, and every 20 polls for events a gate pushed late (older than the newest).
            if !fresh.isEmpty || ticks % 20 == 0,
               let counts = try? await reader.read({ try await $0.decisionCounts(since: Self.startOfToday()) }) {
                let methods = Self.json(counts.map(Self.countRow))
                if methods != lastMethods {
                    out += "event: methods\ndata: \(methods)\n\n"
                    lastMethods = methods
                }
            }
            if out.isEmpty, ticks % 30 == 0 { out = ": keep-alive\n\n" }
            if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }
            try await Task.sleep(for: poll)
        }
    }

    static func key(_ event: DirectoryEvent) -> String { "\(event.gate ?? "")#\(event.seq)" }

    static func eventRow(_ event: DirectoryEvent, names: [String: String]) -> [String: Any] {
        ["seq": event.seq, "time": ConsoleRoutes.time(event.time), "door": event.door ?? "", "method": event.method ?? "",
         "result": event.result ?? event.action, "reason": event.reason ?? "",
         "resident": event.residentID.flatMap { names[$0] } ?? "", "operator": event.operator ?? "",
         "granted": event.result == AccessResult.granted.rawValue, "gate": event.gate ?? ""]
    }

    static func countRow(_ count: DecisionCount) -> [String: Any] {
        ["method": count.method, "granted": count.granted, "denied": count.denied]
    }

    static func startOfToday() -> WallTime {
        WallTime(Calendar.current.startOfDay(for: WallTime.current().date))
    }

    static func doorRow(_ door: DoorStatus) -> [String: Any] {
        ["name": door.name, "lock": door.lock.rawValue, "contact": door.contact.rawValue,
         "alarms": door.alarms.isEmpty ? "–" : door.alarms.map(\.rawValue).joined(separator: ", "),
         "alarm": !door.alarms.isEmpty || door.fireAlarm]
    }

    static func eventRow(_ event: EventEntry, names: [String: String]) -> [String: Any] {
        ["seq": event.seq, "time": ConsoleRoutes.time(event.time), "door": event.door ?? "", "method": event.method?.rawValue ?? "",
         "result": event.result?.rawValue ?? event.action, "reason": event.reason?.rawValue ?? "",
         "resident": event.residentID.flatMap { names[$0] } ?? "", "operator": event.operator ?? "",
         "granted": event.result == .granted]
    }

    static func residentNames(_ events: [EventEntry], database: GateDatabase) -> [String: String] {
        var names: [String: String] = [:]
        for id in Set(events.compactMap(\.residentID)) { names[id] = try? database.resident(id).displayName }
        return names
    }

    /// Compact JSON of plain values (strings, numbers, booleans, arrays and dictionaries of them).
    static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `YYYY-MM-DD` from a date field: the instant that local day ends, strictly (no 2025-02-30).
enum ConsoleDate {
    static func endOfDay(_ text: String) -> WallTime? {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1970...9998).contains(year)
        else { return nil }
        let calendar = Calendar(identifier: .gregorian)
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: start) == day, calendar.component(.month, from: start) == month,
              let end = calendar.date(byAdding: .day, value: 1, to: start)
        else { return nil }
        return WallTime(end)
    }
}
