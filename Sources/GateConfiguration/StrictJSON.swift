import Foundation

/// A strict, non-recursive JSON reader for configuration files.
///
/// `JSONDecoder` lets the first of two duplicate keys win silently and reports syntax errors without a
/// position. This reader refuses duplicate keys (naming the key path), refuses numbers that do not fit a
/// finite `Double` (`1e400`) and the non-JSON words `NaN` and `Infinity`, and gives the line and column of
/// every syntax error. It keeps its own stack instead of recursing, and refuses nesting deeper than
/// ``maximumDepth``, so no input can exhaust the thread's stack: it is a fuzz target and total on any bytes.
enum StrictJSON {
    /// Deepest nesting of objects and arrays accepted; a configuration needs about five.
    static let maximumDepth = 64

    /// - Throws: `ConfigurationError` naming the line and column (and the key path, when inside an object).
    static func parse(_ data: Data) throws(ConfigurationError) -> JSONValue {
        var scanner = Scanner(bytes: Array(data))
        return try scanner.document()
    }

    private struct Container {
        /// `doors[0].relay` style path of this container, for messages.
        var path: String
        var isObject: Bool
        var members: [String: JSONValue] = [:]
        var elements: [JSONValue] = []
        /// The key whose value is being read (objects only).
        var key = ""

        /// The path of the value being read: the container's own path between a value and the next key.
        var valuePath: String {
            guard isObject else { return "\(path)[\(elements.count)]" }
            return key.isEmpty ? path : path.isEmpty ? key : "\(path).\(key)"
        }

        mutating func add(_ value: JSONValue) {
            if isObject {
                members[key] = value
                key = ""
            } else {
                elements.append(value)
            }
        }

        var value: JSONValue { isObject ? .object(members) : .array(elements) }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0
        var stack: [Container] = []

        init(bytes: [UInt8]) {
            self.bytes = bytes
            // A UTF-8 byte order mark, as some editors write.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3; lineStart = 3 }
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        func error(_ problem: String) -> ConfigurationError {
            let column = index - lineStart + 1
            let place = stack.last.map { $0.valuePath }.flatMap { $0.isEmpty ? nil : " (in \($0))" } ?? ""
            return ConfigurationError(key: "", problem: "the file is not valid JSON: \(problem) at line \(line), column \(column)\(place)")
        }

        func describe(_ byte: UInt8) -> String {
            (0x21...0x7E).contains(byte) ? "'\(Character(UnicodeScalar(byte)))'" : String(format: "byte 0x%02X", byte)
        }

        mutating func skipWhitespace() {
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\n"):
                    index += 1
                    line += 1
                    lineStart = index
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    index += 1
                default:
                    return
                }
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ConfigurationError) {
            skipWhitespace()
            guard let next = peek else { throw error("the file ends where \(what) was expected") }
            guard next == byte else { throw error("\(describe(next)) where \(what) was expected") }
            index += 1
        }

        /// Reads `"key"` and the colon after it into the innermost (object) container.
        mutating func key() throws(ConfigurationError) {
            skipWhitespace()
            guard let next = peek else { throw error("the file ends where a quoted key was expected") }
            guard next == UInt8(ascii: "\"") else { throw error("\(describe(next)) where a quoted key was expected") }
            let line = self.line, column = index - lineStart + 1
            let key = try string()
            let top = stack.count - 1
            stack[top].key = key
            guard stack[top].members[key] == nil else {
                throw ConfigurationError(key: stack[top].valuePath,
                                         problem: "the key appears twice in the same object (again at line \(line), column \(column))")
            }
            // Marks the key as taken; replaced by its value once read.
            stack[top].members[key] = .null
            try expect(UInt8(ascii: ":"), "':' after the key")
        }

        mutating func document() throws(ConfigurationError) -> JSONValue {
            while true {
                var value = try scalarOrOpen()
                // Hand the finished value to its container; close containers that end here.
                while true {
                    guard var container = stack.popLast() else {
                        skipWhitespace()
                        if let next = peek { throw error("unexpected \(describe(next)) after the end of the document") }
                        return value
                    }
                    container.add(value)
                    skipWhitespace()
                    let close = container.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    guard let next = peek else {
                        stack.append(container)
                        throw error("the file ends inside \(container.isObject ? "an object" : "an array")")
                    }
                    if next == UInt8(ascii: ",") {
                        index += 1
                        stack.append(container)
                        if container.isObject { try key() }
                        break
                    }
                    guard next == close else {
                        stack.append(container)
                        throw error("\(describe(next)) where ',' or '\(Character(UnicodeScalar(close)))' was expected")
                    }
                    index += 1
                    value = container.value
                }
            }
        }

        /// Reads a scalar and returns it, or opens a container (pushing it) and returns the empty container
        /// when it closes at once. Loops until a complete value is available.
        mutating func scalarOrOpen() throws(ConfigurationError) -> JSONValue {
            while true {
                skipWhitespace()
                guard let byte = peek else { throw error("the file ends where a value was expected") }
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isObject = byte == UInt8(ascii: "{")
                    guard stack.count < StrictJSON.maximumDepth else {
                        throw error("nesting deeper than \(StrictJSON.maximumDepth) levels")
                    }
                    let path = stack.last?.valuePath ?? ""
                    index += 1
                    skipWhitespace()
                    if peek == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        index += 1
                        return isObject ? .object([:]) : .array([])
                    }
                    stack.append(Container(path: path, isObject: isObject))
                    if isObject { try key() }
                case UInt8(ascii: "\""):
                    return .string(try string())
                case UInt8(ascii: "t"):
                    try word("true")
                    return .bool(true)
                case UInt8(ascii: "f"):
                    try word("false")
                    return .bool(false)
                case UInt8(ascii: "n"):
                    try word("null")
                    return .null
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return .number(try number())
                case UInt8(ascii: "N"), UInt8(ascii: "I"):
                    throw error("NaN and Infinity are not JSON numbers")
                default:
                    throw error("unexpected \(describe(byte)) where a value was expected")
                }
            }
        }

        mutating func word(_ text: StaticString) throws(ConfigurationError) {
            let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
            guard bytes.count - index >= expected.count, bytes[index..<(index + expected.count)].elementsEqual(expected) else {
                throw error("unexpected \(describe(bytes[index])) where a value was expected")
            }
            index += expected.count
        }

        mutating func number() throws(ConfigurationError) -> Double {
            let start = index
            func digits(_ scanner: inout Scanner) -> Int {
                let first = scanner.index
                while let byte = scanner.peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { scanner.index += 1 }
                return scanner.index - first
            }
            if peek == UInt8(ascii: "-") { index += 1 }
            if peek == UInt8(ascii: "0") {
                index += 1
            } else if digits(&self) == 0 {
                if peek == UInt8(ascii: "I") { throw error("NaN and Infinity are not JSON numbers") }
                throw error("a number needs digits")
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw error("a number needs digits after '.'") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { throw error("a number needs digits in its exponent") }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                index = start
                throw error("the number \(text.prefix(40)) is too large")
            }
            return value
        }

        /// Reads a quoted string (the opening quote is at `index`).
        mutating func string() throws(ConfigurationError) -> String {
            index += 1
            var utf8: [UInt8] = []
            while true {
                guard let byte = peek else { throw error("the file ends inside a string") }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let string = String(bytes: utf8, encoding: .utf8) else {
                        throw error("a string that is not valid UTF-8 ends")
                    }
                    return string
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escape = peek else { throw error("the file ends inside a string") }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw error("an unpaired \\u surrogate")
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("an unpaired \\u surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw error("an unpaired \\u surrogate") }
                        utf8 += Array(String(Character(unicode)).utf8)
                    default:
                        index -= 1
                        throw error("the escape \\\(describe(escape)) is not JSON")
                    }
                case 0x00..<0x20:
                    throw error("a control character (\(describe(byte))) inside a string")
                default:
                    utf8.append(byte)
                    index += 1
                }
            }
        }

        mutating func hex4() throws(ConfigurationError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = peek, let digit = Int(String(UnicodeScalar(byte)), radix: 16) else {
                    throw error("\\u needs four hex digits")
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }
    }
}
