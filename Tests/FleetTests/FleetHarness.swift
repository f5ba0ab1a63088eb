import Foundation
import GateHub
import Logging
import Testing

/// The fleet suite runs only when asked (`scripts/fleet-test` sets OPTGATE_FLEET=1): it starts PostgreSQL and
/// real daemons, so it is its own stage of `scripts/test`, skippable with OPTGATE_SKIP_FLEET=1.
enum Fleet {
    static let enabled = ProcessInfo.processInfo.environment["OPTGATE_FLEET"] == "1"
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let logger = Logger(label: "fleet-tests", factory: { _ in SwiftLogNoOpLogHandler() })
}

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
    var line: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
}

func execute(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
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

/// A throwaway PostgreSQL 15 cluster (`scripts/pg-test-cluster`), destroyed when released.
final class PostgresCluster: @unchecked Sendable {
    let directory: String
    private(set) var port: Int

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-pg-\(UUID().uuidString.prefix(8))").path
        port = 0
        let started = execute("\(Fleet.repository)/scripts/pg-test-cluster", ["start", directory])
        guard started.succeeded, let port = Int(started.line) else { throw FleetTestError("PostgreSQL did not start: \(started.stderr)") }
        self.port = port
    }

    deinit { _ = execute("\(Fleet.repository)/scripts/pg-test-cluster", ["destroy", directory]) }

    /// The manager's URL (the cluster's superuser, trusted on loopback).
    var url: String { "postgresql://127.0.0.1:\(port)/optgate" }
    var endpoint: HubEndpoint { try! HubEndpoint(url: url) }

    func stop() { _ = execute("\(Fleet.repository)/scripts/pg-test-cluster", ["stop", directory]) }

    func start() throws {
        let started = execute("\(Fleet.repository)/scripts/pg-test-cluster", ["start", directory, "\(port)"])
        guard started.succeeded else { throw FleetTestError("PostgreSQL did not restart: \(started.stderr)") }
    }

    /// `psql` as `user` (the manager when nil): one command, no psqlrc, errors stop it.
    func psql(_ sql: String, user: String? = nil, password: String? = nil) -> CommandResult {
        var environment = ["PGCONNECT_TIMEOUT": "5"]
        if let password { environment["PGPASSWORD"] = password }
        return execute("/usr/bin/psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)",
                                         "-U", user ?? "optgate_admin", "-d", "optgate", "-c", sql], environment: environment)
    }

    /// `optgate --hub URL ARGS`.
    func cli(_ arguments: [String], stdin: String? = nil) -> CommandResult {
        execute(Binaries.cli, ["--hub", url] + arguments, stdin: stdin)
    }
}

struct FleetTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` for up to `seconds`.
func eventually(within seconds: Double, every interval: useconds_t = 20_000, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try condition() { return true }
        usleep(interval)
    } while Date() < deadline
    return false
}
