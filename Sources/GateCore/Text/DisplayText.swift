/// Text from the store or a configuration made safe for a terminal or a spreadsheet.
///
/// Names, units, notes and operator strings are typed by people and may hold anything: an escape
/// sequence that recolours or rewrites the terminal, a newline that forges an extra line of output,
/// a bidirectional override that reorders what is shown. `terminal` renders every such character
/// visibly; `csvField` also keeps a spreadsheet from running a field as a formula.
public enum DisplayText {
    /// `text` with control characters (C0, DEL, C1), line and paragraph separators and bidirectional
    /// controls replaced by visible escapes: `\n`, `\r`, `\t`, `\\` for a backslash, `\u{1B}` for the rest.
    public static func terminal(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where needsEscape(scalar): out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One CSV field (RFC 4180): control characters escaped as in `terminal`; a leading `=`, `+`, `-`
    /// or `@` (which spreadsheets run as a formula) prefixed with `'`; quoted when it holds a comma, a
    /// quote or a leading/trailing space.
    public static func csvField(_ text: String) -> String {
        var value = terminal(text)
        if let first = value.unicodeScalars.first, ["=", "+", "-", "@"].contains(first) { value = "'" + value }
        let needsQuotes = value.contains(where: { $0 == "," || $0 == "\"" }) || value.first == " " || value.last == " "
        return needsQuotes ? "\"" + value.replacing("\"", with: "\"\"") + "\"" : value
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        // Backslash is escaped only when something else is, so that the escapes stay unambiguous.
        case 0x5C: false
        case 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C: true
        default: false
        }
    }
}
