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

/// Runs a program to its end with posix_spawn and waitpid, its output in temporary files. Not Foundation's
/// `Process`: its exit monitor never reaped the shell of `scripts/pg-test-cluster` (which leaves PostgreSQL
/// running as `nobody` through runuser), and the test hung in `waitUntilExit`.
func execute(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) -> CommandResult {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("og-exec-\(UUID().uuidString.prefix(8))").path
    let (inPath, outPath, errPath) = ("\(base).in", "\(base).out", "\(base).err")
    defer { for path in [inPath, outPath, errPath] { unlink(path) } }
    _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { return CommandResult(status: -1, stdout: "", stderr: "posix_spawn failed: \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exited = status & 0x7f == 0
    let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    return CommandResult(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: read(outPath), stderr: read(errPath))
}

/// A throwaway PostgreSQL 15 cluster (`scripts/pg-test-cluster`), destroyed when released.
final class PostgresCluster: @unchecked Sendable {
    let directory: String
    private(set) var port: Int

    /// - Parameter listen: an address off loopback to listen on too, TLS only, with a throwaway CA (`caFile`).
    init(listen: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-pg-\(UUID().uuidString.prefix(8))").path
        port = 0
        let started = execute("\(Fleet.repository)/scripts/pg-test-cluster", ["start", directory],
                              environment: listen.map { ["PG_TEST_LISTEN": $0] } ?? [:])
        guard started.succeeded, let port = Int(started.line) else { throw FleetTestError("PostgreSQL did not start: \(started.stderr)") }
        self.port = port
    }

    deinit { _ = execute("\(Fleet.repository)/scripts/pg-test-cluster", ["destroy", directory]) }

    /// The CA the cluster's certificate chains to, when it listens off loopback.
    var caFile: String { "\(directory)/tls/ca.pem" }

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
