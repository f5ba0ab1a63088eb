/// The doors a face-recognition consent covers: `*` for every door of the gate, else a list of door
/// names. A template is compared with faces only at the doors its consent in force covers.
public struct ConsentScope: Sendable, Hashable {
    /// Door names as recorded in the consent row; `["*"]` for all doors.
    public var doors: [String]

    public static let everyDoor = ConsentScope(doors: ["*"])

    public init(doors: [String]) {
        self.doors = doors
    }

    /// The comma-separated form stored in the `consent.scope` column and given to `--scope`.
    public init(_ text: String) {
        doors = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
    }

    public var isEveryDoor: Bool { doors.contains("*") }

    /// Whether faces of this consent may be matched at `door`.
    public func covers(door: String) -> Bool {
        isEveryDoor || doors.contains(door)
    }

    /// Why this scope cannot be recorded for a gate with `knownDoors`, or `nil` when it can: it must name
    /// at least one door, `*` only alone, and only doors that exist (a scope naming a door that does not
    /// exist would silently cover nothing there, or cover a door added later without the resident's say).
    public func problem(knownDoors: [String]) -> String? {
        if doors.isEmpty || doors.contains(where: \.isEmpty) { return "the scope names no door" }
        if isEveryDoor { return doors.count == 1 ? nil : "\"*\" (every door) cannot be combined with door names" }
        let unknown = doors.filter { !knownDoors.contains($0) }
        guard unknown.isEmpty else {
            return "no door is named \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) (doors: \(knownDoors.joined(separator: ", ")))"
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
