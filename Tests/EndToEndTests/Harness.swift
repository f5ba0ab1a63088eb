import Foundation
import GateControl
import Testing

/// Runs the real `optgated` and `optgate` executables built beside this test bundle.
enum Binaries {
    static let directory: String = {
        if let override = ProcessInfo.processInfo.environment["OPTGATE_BIN_DIR"] { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }()

    static var daemon: String { "\(directory)/optgated" }
    static var cli: String { "\(directory)/optgate" }
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
}

/// A temporary state directory with an optional running daemon.
final class Gate: @unchecked Sendable {
    let directory: String
    var daemon: Process?
    var daemonLog: String { "\(directory)-daemon.log" }

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-\(UUID().uuidString.prefix(8))").path
    }

    deinit {
        if let daemon, daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: "\(directory).json")
        // Everything a test put beside the state directory: logs, configs, clips, photos.
        let parent = (directory as NSString).deletingLastPathComponent
        let prefix = (directory as NSString).lastPathComponent + "-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: "\(parent)/\(name)")
        }
    }

    var socket: String { "\(directory)/control.sock" }
    var configPath: String { "\(directory).json" }
    var databasePath: String { "\(directory)/optgate.sqlite" }

    /// Starts `optgated --simulate` (or without `--simulate`: doors without `gpio` still get simulated relays,
    /// but injected inputs are refused) and waits until its control socket answers.
    func start(config: String? = nil, extra: [String] = [], environment: [String: String] = [:], simulate: Bool = true) throws {
        var arguments = ["--state-dir", directory] + (simulate ? ["--simulate"] : []) + ["--log-level", "debug"] + extra
        if let config {
            let path = "\(directory).json"
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            arguments += ["--config", path]
        }
        _ = FileManager.default.createFile(atPath: daemonLog, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.daemon)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let logHandle = FileHandle(forWritingAtPath: daemonLog)!
        logHandle.seekToEndOfFile()
        process.standardError = logHandle
        process.standardOutput = logHandle
        try process.run()
        daemon = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if run(["status"]).succeeded { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw HarnessError("optgated did not come up: \(log(of: daemonLog))")
    }

    /// SIGTERM, then wait. - Returns: the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let daemon else { return -1 }
        if daemon.isRunning { daemon.terminate() }
        daemon.waitUntilExit()
        self.daemon = nil
        return daemon.terminationStatus
    }

    /// Runs `optgate ARGS --state-dir DIR`.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil) -> CommandResult {
        Gate.execute(Binaries.cli, ["--state-dir", directory] + arguments, stdin: stdin)
    }

    func log(of path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    var daemonOutput: String { log(of: daemonLog) }

    static func execute(_ executable: String, _ arguments: [String], stdin: String? = nil) -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        do { try process.run() } catch { return CommandResult(status: -1, stdout: "", stderr: "\(error)") }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Writes `config` beside the state directory and runs `optgate config check` on it.
    /// - Returns: the result and the file's path (for running the daemon on the same file).
    func checkConfig(_ config: String, name: String = "config") throws -> (result: CommandResult, path: String) {
        let path = "\(directory)-\(name).json"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return (Gate.execute(Binaries.cli, ["config", "check", path]), path)
    }

    /// Adds a resident with a card and a PIN. - Returns: the resident id.
    func resident(name: String = "Li Wei", card: String? = nil, pin: String? = nil, validUntil: String? = nil) throws -> String {
        var arguments = ["resident", "add", "--name", name, "--unit", "3-1501"]
        if let validUntil { arguments += ["--valid-until", validUntil] }
        let added = run(arguments)
        try #require(added.succeeded, "\(added.stderr)")
        let id = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(id.hasPrefix("r") && !id.contains("\n"), "resident add prints only the id")
        if let card { try #require(run(["card", "add", id, "--uid", card]).succeeded) }
        if let pin { try #require(run(["pin", "set", id], stdin: pin + "\n").succeeded) }
        return id
    }

    /// `optgate simulate ...` and the decision line it prints.
    func simulate(_ arguments: String...) -> String {
        let result = run(["simulate"] + arguments)
        return result.succeeded ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "error: \(result.stderr)"
    }

    struct Event: Decodable {
        var time: String
        var door: String?
        var method: String?
        var result: String?
        var reason: String?
        var resident: String?
        var `operator`: String?
    }

    func events() throws -> [Event] {
        let result = run(["events", "--json"])
        try #require(result.succeeded, "\(result.stderr)")
        return try JSONDecoder().decode([Event].self, from: Data(result.stdout.utf8))
    }

    func status() throws -> DaemonStatus {
        let result = run(["status", "--json"])
        try #require(result.succeeded, "\(result.stderr)")
        let decoder = JSONDecoder()
        return try decoder.decode(DaemonStatus.self, from: Data(result.stdout.utf8))
    }

    /// Polls `condition` for up to `seconds`.
    func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try condition() { return true }
            usleep(50_000)
        } while Date() < deadline
        return false
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `sockaddr_un` for a filesystem path, for tests that talk to sockets directly.
func unixAddress(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(path.utf8)
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return address
}
