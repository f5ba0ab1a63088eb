import Foundation

/// A configuration problem, named by its key path so the operator knows exactly what to fix.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { key.isEmpty ? "configuration: \(problem)" : "configuration key \(key): \(problem)" }
}

/// A strict reader over a JSON object: every key read is remembered, and `finish()` rejects the ones
/// nobody asked for, so a typo such as `pulseSecond` stops startup instead of being ignored.
struct ConfigObject {
    let path: String
    private let values: [String: JSONValue]
    private var consumed: Set<String> = []

    init(path: String, values: [String: JSONValue]) {
        self.path = path
        self.values = values
    }

    static func parse(json data: Data) throws(ConfigurationError) -> ConfigObject {
        let object = try StrictJSON.parse(data)
        guard case .object(let values) = object else {
            throw ConfigurationError(key: "", problem: "the top level must be a JSON object")
        }
        return ConfigObject(path: "", values: values)
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func number(_ key: String, default value: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        consumed.insert(key)
        guard let raw = values[key] else { return value }
        guard case .number(let double) = raw else {
            throw ConfigurationError(key: name(key), problem: "expected a number")
        }
        guard range.contains(double) else {
            throw ConfigurationError(key: name(key), problem: "\(format(double)) is out of range \(format(range.lowerBound))–\(format(range.upperBound))")
        }
        return double
    }

    mutating func integer(_ key: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let double = try number(key, default: Double(value), range: Double(range.lowerBound)...Double(range.upperBound))
        guard double == double.rounded(), let whole = Int(exactly: double) else {
            throw ConfigurationError(key: name(key), problem: "expected a whole number")
        }
        return whole
    }

    mutating func string(_ key: String, default value: String?) throws(ConfigurationError) -> String? {
        consumed.insert(key)
        guard let raw = values[key] else { return value }
        guard case .string(let string) = raw, !string.isEmpty else {
            throw ConfigurationError(key: name(key), problem: "expected a non-empty string")
        }
        return string
    }

    mutating func choice<T: RawRepresentable>(_ key: String, default value: T) throws(ConfigurationError) -> T
    where T.RawValue == String, T: CaseIterable {
        guard let raw = try string(key, default: value.rawValue) else { return value }
        guard let choice = T(rawValue: raw) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(key: name(key), problem: "\"\(raw)\" is not one of: \(allowed)")
        }
        return choice
    }

    mutating func bool(_ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
        consumed.insert(key)
        guard let raw = values[key] else { return value }
        guard case .bool(let bool) = raw else { throw ConfigurationError(key: name(key), problem: "expected true or false") }
        return bool
    }

    /// An array of exactly `count` numbers, each within `range`.
    mutating func numbers(_ key: String, count: Int, range: ClosedRange<Double>) throws(ConfigurationError) -> [Double]? {
        consumed.insert(key)
        guard let raw = values[key] else { return nil }
        guard case .array(let array) = raw, array.count == count else {
            throw ConfigurationError(key: name(key), problem: "expected an array of \(count) numbers")
        }
        return try array.map { element throws(ConfigurationError) in
            guard case .number(let number) = element, range.contains(number) else {
                throw ConfigurationError(key: name(key), problem: "expected numbers in \(format(range.lowerBound))–\(format(range.upperBound))")
            }
            return number
        }
    }

    /// An array of any length of numbers, each within `range`.
    mutating func numberArray(_ key: String, range: ClosedRange<Double>) throws(ConfigurationError) -> [Double]? {
        guard case .array(let array)? = values[key] else { return try numbers(key, count: 0, range: range) }
        return try numbers(key, count: array.count, range: range)
    }

    mutating func stringArray(_ key: String, default value: [String]) throws(ConfigurationError) -> [String] {
        consumed.insert(key)
        guard let raw = values[key] else { return value }
        guard case .array(let array) = raw else { throw ConfigurationError(key: name(key), problem: "expected an array of strings") }
        return try array.map { element throws(ConfigurationError) in
            guard case .string(let string) = element else {
                throw ConfigurationError(key: name(key), problem: "expected an array of strings")
            }
            return string
        }
    }

    mutating func object(_ key: String) throws(ConfigurationError) -> ConfigObject {
        consumed.insert(key)
        guard let raw = values[key] else { return ConfigObject(path: name(key), values: [:]) }
        guard case .object(let nested) = raw else { throw ConfigurationError(key: name(key), problem: "expected an object") }
        return ConfigObject(path: name(key), values: nested)
    }

    mutating func objectArray(_ key: String) throws(ConfigurationError) -> [ConfigObject]? {
        consumed.insert(key)
        guard let raw = values[key] else { return nil }
        guard case .array(let array) = raw else {
            throw ConfigurationError(key: name(key), problem: "expected an array of objects")
        }
        return try array.enumerated().map { index, element throws(ConfigurationError) in
            guard case .object(let values) = element else {
                throw ConfigurationError(key: "\(name(key))[\(index)]", problem: "expected an object")
            }
            return ConfigObject(path: "\(name(key))[\(index)]", values: values)
        }
    }

    /// Whether `key` is present (it is not consumed by asking).
    func has(_ key: String) -> Bool { values[key] != nil }

    /// - Throws: naming the first key that was never read.
    func finish() throws(ConfigurationError) {
        if let unknown = values.keys.sorted().first(where: { !consumed.contains($0) }) {
            throw ConfigurationError(key: name(unknown), problem: "unknown key")
        }
    }

    /// Whole numbers without a fraction ("45", not "45.0"); any other value, however large, as Swift prints it
    /// ("1e+20"): converting every whole `Double` to `Int` trapped at 2^63.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15, let whole = Int(exactly: value) { return String(whole) }
        return String(value)
    }

    private func format(_ value: Double) -> String { Self.format(value) }
}

/// A JSON value that keeps booleans, numbers and strings apart (JSONSerialization on Linux does not).
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}
