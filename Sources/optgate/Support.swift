public import ArgumentParser
import Foundation
import GateControl
public import GateCore
import GateStore
import Glibc

/// Options every command understands.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "State directory (default: $OPTGATE_STATE_DIR or /var/lib/optgate).")
    var stateDir: String?

    @Option(name: .long, help: "Control socket of the running daemon (default: <state dir>/control.sock).")
    var socket: String?

    var stateDirectory: String {
        stateDir ?? ProcessInfo.processInfo.environment["OPTGATE_STATE_DIR"] ?? "/var/lib/optgate"
    }

    @Option(name: .long, help: "The fleet hub, postgresql://HOST:PORT/DATABASE (default: $OPTGATE_HUB); without one, commands act on this box's store.")
    var hub: String?

    /// The hub to manage instead of the local store, if one is given (docs/fleet.md).
    var hubURL: String? {
        hub ?? ProcessInfo.processInfo.environment["OPTGATE_HUB"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["OPTGATE_SOCKET"] ?? ControlSocket.defaultPath(stateDirectory: stateDirectory)
    }

    func database() throws -> GateDatabase {
        try GateDatabase(stateDirectory: stateDirectory, anchorRefused: { refusal in
            FileHandle.standardError.write(Data("optgate: warning: \(refusal) `optgate audit verify` says more.\n".utf8))
        })
    }

    /// Sends one request to the daemon and waits for its answer.
    /// - Throws: `CLIError` when the daemon cannot be reached, does not answer, or refuses the request.
    func send(_ request: ControlRequest) throws -> ControlResponse {
        let response: ControlResponse
        do {
            response = try ControlClient(path: socketPath).send(request)
        } catch {
            throw CLIError(error.description)
        }
        if !response.ok { throw CLIError(response.error ?? "optgated refused the request") }
        return response
    }
}

/// An error whose text is the whole message.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The operator recorded for a change: always the Unix user (`currentOperator`), with the staff member named by
/// `--operator` beside it, never instead of it: `unix:alice; staff: Wang Li`.
func recordedOperator(staff: String?) -> String {
    guard let staff else { return currentOperator }
    return "\(currentOperator); staff: \(staff.trimmingCharacters(in: .whitespaces))"
}

/// Checks an `--operator` name: a name, not a place to hide text from the ledger's readers.
func validateStaffName(_ staff: String?) throws {
    guard let staff else { return }
    let trimmed = staff.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty || trimmed.count > 100 { throw ValidationError("Please give --operator as a name of 1 to 100 characters.") }
    if DisplayText.terminal(trimmed) != trimmed || trimmed.contains(";") {
        throw ValidationError("Please give --operator without control characters or semicolons.")
    }
}

/// The operator recorded for changes made from this shell: the Unix user (and the sudo caller).
var currentOperator: String {
    let uid = geteuid()
    var name = "uid \(uid)"
    if let entry = getpwuid(uid), let login = entry.pointee.pw_name { name = String(cString: login) }
    if uid == 0, let sudoUser = ProcessInfo.processInfo.environment["SUDO_USER"] { return "unix:\(sudoUser) (sudo)" }
    return "unix:\(name)"
}

enum Output {
    /// Text from the store or the daemon, as it may be shown on a terminal (escape sequences, newlines and
    /// bidirectional overrides made visible; `DisplayText.terminal`).
    static func safe(_ text: String) -> String { DisplayText.terminal(text) }

    /// One CSV record of `fields` (`DisplayText.csvField`: no formulas, no control characters).
    static func csv(_ fields: [String?]) -> String {
        fields.map { DisplayText.csvField($0 ?? "") }.joined(separator: ",")
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func time(_ time: WallTime) -> String {
        time.date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// Parses `YYYY-MM-DD` (access ends when that local day ends) or a full ISO 8601 date-time, strictly
/// (see `CommandLineDate`).
func parseDate(_ text: String) -> WallTime? {
    CommandLineDate.parse(text, endOfDay: true)
}

extension ConsentMethod: ExpressibleByArgument {}
