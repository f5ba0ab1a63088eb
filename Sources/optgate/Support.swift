public import ArgumentParser
import Foundation
import GateControl
public import GateCore
import GateServices
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

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["OPTGATE_SOCKET"] ?? ControlSocket.defaultPath(stateDirectory: stateDirectory)
    }

    func database() throws -> GateDatabase { try GateDatabase(stateDirectory: stateDirectory) }

    /// Sends one request to the daemon and waits for its answer.
    func send(_ request: ControlRequest) throws -> ControlResponse {
        let fd: Int32
        do {
            fd = try ControlServer.connect(path: socketPath)
        } catch {
            throw CLIError("optgated is not running (\(error)); start it first")
        }
        defer { close(fd) }
        let encoder = JSONEncoder()
        var line = Array(try encoder.encode(request))
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !buffer.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw CLIError("optgated closed the connection without answering") }
            buffer += chunk[..<count]
        }
        let response = try JSONDecoder().decode(ControlResponse.self, from: Data(buffer.prefix { $0 != UInt8(ascii: "\n") }))
        if !response.ok { throw CLIError(response.error ?? "optgated refused the request") }
        return response
    }
}

/// An error whose text is the whole message.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
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
