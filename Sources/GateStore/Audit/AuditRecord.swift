public import GateCore

/// One entry of the audit log as the caller describes it. Never put a PIN, a full card UID, a face
/// template or a resident's name here: `detail` is for ids, counts and display forms only.
public struct AuditRecord: Sendable, Hashable {
    public var time: WallTime
    public var category: AuditCategory
    /// What happened; stored as its dotted raw value (`access.card`, `consent.grant`, `resident.erase`).
    public var action: AuditAction
    public var door: String?
    public var method: AccessMethod?
    public var result: AccessResult?
    public var reason: DecisionReason?
    public var residentID: String?
    public var `operator`: String?
    /// Compact JSON with string values, keys sorted.
    public var detail: String?

    public init(
        time: WallTime, category: AuditCategory, action: AuditAction, door: String? = nil, method: AccessMethod? = nil,
        result: AccessResult? = nil, reason: DecisionReason? = nil, residentID: String? = nil,
        operator: String? = nil, detail: [String: String] = [:]
    ) {
        self.time = time
        self.category = category
        self.action = action
        self.door = door
        self.method = method
        self.result = result
        self.reason = reason
        self.residentID = residentID
        self.operator = `operator`
        self.detail = detail.isEmpty ? nil : Self.encode(detail)
    }

    /// A deterministic JSON object: keys sorted, strings escaped.
    static func encode(_ detail: [String: String]) -> String {
        let members = detail.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
        return "{" + members.joined(separator: ",") + "}"
    }
}

func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// An event as `optgate events` and exports show it.
public struct EventEntry: Sendable, Hashable, Codable {
    public var seq: Int64
    public var time: WallTime
    public var door: String?
    public var method: AccessMethod?
    public var result: AccessResult?
    public var reason: DecisionReason?
    public var residentID: String?
    public var `operator`: String?
    public var action: String
    /// How many decisions the entry stands for: 1, or the count of an `access.denied.collapsed` entry.
    public var count: Int = 1
}

/// An audit entry as `optgate audit list` shows it; redacted entries carry only their seq.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var seq: Int64
    public var time: WallTime?
    public var category: String?
    public var action: String?
    public var residentID: String?
    public var `operator`: String?
    public var detail: String?
    public var redactedBy: Int64?
}
