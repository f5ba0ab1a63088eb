import Foundation
import GateControl
import Glibc
import Testing

/// The CLI's side of the control socket (`ControlClient`) against a scripted one-connection server: answers
/// that arrive in pieces, a daemon that answers and closes without reading, one that closes without answering,
/// garbage, and no daemon at all.
@Suite struct ControlClientTests {
    /// Listens on a fresh socket path and runs `script` on the first connection, on its own thread.
    final class OneShotServer: @unchecked Sendable {
        let path: String
        let listener: Int32
        let done = DispatchSemaphore(value: 0)

        init(_ script: @escaping @Sendable (Int32) -> Void) throws {
            path = NSTemporaryDirectory() + "og-client-\(UUID().uuidString.prefix(8)).sock"
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = unixAddress(path)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(listener, 1) == 0 else { throw HarnessError("cannot listen on \(path)") }
            let thread = Thread { [listener, done] in
                let connection = accept(listener, nil, nil)
                if connection >= 0 {
                    script(connection)
                    close(connection)
                }
                done.signal()
            }
            thread.start()
        }

        deinit {
            close(listener)
            unlink(path)
        }
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the request's newline (or the end).
    static func readRequest(_ fd: Int32) -> [UInt8] {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !request.contains(0x0A) {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            request += chunk[..<count]
        }
        return request
    }

    @Test func anAnswerInPiecesIsReadWhole() throws {
        let server = try OneShotServer { fd in
            _ = ControlClientTests.readRequest(fd)
            for piece in [#"{"ok":tr"#, #"ue,"message":"in "#, "pieces\"}\n"] {
                ControlClientTests.write(fd, piece)
                usleep(20_000)
            }
        }
        let response = try ControlClient(path: server.path).send(ControlRequest(command: .status))
        #expect(response.ok && response.message == "in pieces")
        server.done.wait()
    }

    @Test func aRefusalIsReadEvenWhenTheDaemonClosedBeforeReading() throws {
        let server = try OneShotServer { fd in
            ControlClientTests.write(fd, #"{"ok":false,"error":"too many control connections; try again"}"# + "\n")
            shutdown(fd, Int32(SHUT_RDWR))
        }
        // Larger than the socket buffer: the write fails (EPIPE), the answer is still there to read.
        let note = String(repeating: "x", count: 512 * 1024)
        let response = try ControlClient(path: server.path).send(ControlRequest(command: .openDoor, door: "main", operatorNote: note))
        #expect(!response.ok && response.error == "too many control connections; try again")
        server.done.wait()
    }

    @Test func aDaemonThatClosesWithoutAnsweringIsNamed() throws {
        let server = try OneShotServer { fd in _ = ControlClientTests.readRequest(fd) }
        let error = #expect(throws: ControlClientError.self) { try ControlClient(path: server.path).send(ControlRequest(command: .status)) }
        guard case .closedWithoutAnswer = error else { Issue.record("\(String(describing: error))"); return }
        #expect(error?.description == "optgated closed the connection without answering")
        server.done.wait()
    }

    @Test func anAnswerThatIsNoResponseIsRefused() throws {
        let server = try OneShotServer { fd in
            _ = ControlClientTests.readRequest(fd)
            ControlClientTests.write(fd, "HTTP/1.1 400 Bad Request\n")
        }
        let error = #expect(throws: ControlClientError.self) { try ControlClient(path: server.path).send(ControlRequest(command: .status)) }
        guard case .malformedResponse = error else { Issue.record("\(String(describing: error))"); return }
        server.done.wait()
    }

    @Test func noDaemonSaysSoAndNamesThePath() {
        let path = NSTemporaryDirectory() + "og-client-nobody.sock"
        let error = #expect(throws: ControlClientError.self) { try ControlClient(path: path).send(ControlRequest(command: .status)) }
        guard case .unreachable = error else { Issue.record("\(String(describing: error))"); return }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("optgated is not running (cannot reach optgated at \(path): ") && text.hasSuffix("); start it first"), "\(text)")
    }
}
