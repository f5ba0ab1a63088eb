import Foundation
import GateCore
import GateConfiguration
import GateStore

extension DaemonConfiguration {
    /// The configuration the CLI applies: `--config`, else `/etc/optgate/optgated.json` when it exists,
    /// else the built-in defaults (as `optgated` itself chooses).
    static func forCLI(_ path: String?) throws -> DaemonConfiguration {
        let standard = "/etc/optgate/optgated.json"
        guard let file = path ?? (FileManager.default.fileExists(atPath: standard) ? standard : nil) else { return .defaults }
        do {
            return try DaemonConfiguration(contentsOf: file)
        } catch {
            throw CLIError("\(file): \(error)")
        }
    }
}

/// The guessing budget of a configuration in words (`optgate config check`, docs/privacy.md).
struct GuessingBudgetReport {
    var configuration: DaemonConfiguration
    /// PIN holders and the largest household behind one unit code, with where the numbers come from.
    var holders: Int
    var largestUnit: Int
    var source: String
    var warnings: [String] = []

    /// Counts the PIN holders in the database under `stateDirectory` (if there is one), unless told to
    /// assume `assumedHolders` (one per unit); without either, assumes 200.
    init(configuration: DaemonConfiguration, stateDirectory: String, assumedHolders: Int?) {
        self.configuration = configuration
        (holders, largestUnit, source) = (200, 1, " (assumed: no database to count)")
        if let assumedHolders {
            (holders, largestUnit, source) = (max(assumedHolders, 0), assumedHolders > 0 ? 1 : 0, " (assumed, one per unit)")
        } else if FileManager.default.fileExists(atPath: "\(stateDirectory)/optgate.sqlite"),
                  let census = try? GateDatabase(stateDirectory: stateDirectory).pinCensus() {
            (holders, largestUnit, source) = (census.holders, census.largestUnit, " (counted in the database)")
            if configuration.pinEntry.mode == .pin, census.withoutLookupTag > 0 {
                warnings.append("warning: \(census.withoutLookupTag) PIN(s) were set for unit + PIN keypads and cannot be found by a PIN-only keypad; set them again")
            }
            if configuration.pinEntry.mode == .unitPin, census.withoutUnitCode > 0 {
                warnings.append("warning: \(census.withoutUnitCode) PIN holder(s) have a unit without digits and cannot use a unit + PIN keypad")
            }
        }
    }

    var lines: [String] {
        let rules = configuration.lockout
        let entry = configuration.pinEntry
        let pinDoors = configuration.doors.filter { $0.methods.contains(.pin) }
        guard !pinDoors.isEmpty else { return [] }  // no keypad, nothing to guess
        let perKeypad = GuessBudget.maximumGuesses(rules: rules, limit: rules.failures)
        let perDoor = GuessBudget.maximumGuesses(rules: rules, limit: rules.doorFailures)
        let perGate = pinDoors.map { door in
            let keypads = max(1, configuration.readers.filter { $0.door == door.name && $0.kind == .keypad }.count)
            return min(keypads * perKeypad, perDoor)
        }.reduce(0, +)
        var lines = warnings
        let mode = entry.mode == .unitPin ? "unit + PIN (unit code, #, PIN, #)" : "PIN only (PIN, #)"
        lines.append("keypad: \(mode); PINs of \(entry.minimumDigits)–\(entry.maximumDigits) digits")
        lines.append("PIN guessing budget: at most \(count(perKeypad)) wrong PINs a day at one keypad and \(count(perDoor)) at one door "
            + "however many keypads it has; \(count(perGate)) a day at this gate's \(pinDoors.count) PIN door(s).")
        lines.append("  (\(rules.failures) wrong PINs within \(span(rules.window)) lock a keypad, \(rules.doorFailures) lock a door; "
            + "the first lockout lasts \(span(rules.firstLockout)), each further one twice as long up to \(span(rules.maximumLockout)); "
            + "the back-off starts over after \(span(rules.reset)) without a wrong PIN; a resident's own PIN never resets it.)")
        let space = GuessBudget.pinSpace(digits: entry.minimumDigits)
        func days(_ targets: Int) -> String {
            guard let guesses = GuessBudget.expectedGuesses(space: space, holders: targets), perGate > 0 else { return "never (no PIN holders)" }
            return duration(days: guesses / Double(perGate)) + " (about \(count(Int(guesses.rounded()))) guesses)"
        }
        lines.append("With \(holders) resident(s) holding \(entry.minimumDigits)-digit PINs\(source), an attacker guessing at the full budget "
            + "expects a first hit after:")
        lines.append("  unit + PIN: \(days(largestUnit)), aiming at the largest household (\(largestUnit) PIN holder(s) in one unit)"
            + (entry.mode == .unitPin ? "  <- this configuration" : ""))
        lines.append("  PIN only:   \(days(holders)), since a guess wins if it is any resident's PIN"
            + (entry.mode == .pin ? "  <- this configuration" : ""))
        return lines
    }

    /// Thousands grouped with commas, whatever the locale (the output is read and tested as text).
    private func count(_ value: Int) -> String {
        var digits = String(value)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        return digits + grouped
    }

    private func span(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        if seconds % 86_400 == 0 { return "\(seconds / 86_400) d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600) h" }
        if seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }

    private func duration(days: Double) -> String {
        if days < 1 { return "under a day (about \(max(1, Int((days * 24).rounded()))) h)" }
        let whole = count(Int(days.rounded()))
        if days >= 730 { return "about \(whole) days (\(count(Int((days / 365.25).rounded()))) years)" }
        return "about \(whole) days"
    }
}
