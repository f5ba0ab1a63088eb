import GateControl
import GateCore
import GateStore
public import Logging
public import ServiceLifecycle

/// Serves the control socket for as long as the daemon runs and routes requests to the gate.
public final class ControlService<C: Clock>: Service, Sendable where C.Duration == Duration, C.Instant: Sendable {
    let server: ControlServer

    /// Most keypad keys one `simulate` request may inject (a `keys` string or a `pin`).
    public static var maximumKeysPerRequest: Int { 64 }

    /// Binds the socket now, so that a second daemon or a bad path fails before `READY`.
    /// - Parameters:
    ///   - simulated: whether the daemon was started with `--simulate`; only then are `simulate` and `stall`
    ///     accepted (a door without a `gpio` section is simulated, but that alone is not enough).
    ///   - enrol: camera enrolment, `nil` when face entry is off.
    public init(path: String, group: String?, gate: GateService<C>, simulated: Bool, enrol: (any CameraEnrolling)? = nil,
                logger: Logger) throws {
        server = ControlServer(path: path, group: group, logger: logger) { request, peer, reply in
            Self.route(request, peer: peer, gate: gate, simulated: simulated, enrol: enrol, reply: reply)
        }
        try server.start()
    }

    public func run() async throws {
        try? await gracefulShutdown()
        server.stop()
    }

    static func route(_ request: ControlRequest, peer: ControlPeer, gate: GateService<C>, simulated: Bool,
                      enrol: (any CameraEnrolling)?, reply: @escaping @Sendable (ControlResponse) -> Void) {
        let door = request.door ?? gate.configuration.doors[0].name
        switch request.command {
        case .faceEnroll, .faceEnrolment:
            guard let enrol else {
                reply(.failure("face entry is off on this gate (no door accepts face, no camera, or no models)"))
                return
            }
            guard let resident = request.resident else {
                reply(.failure("\(request.command.rawValue) needs a resident"))
                return
            }
            reply(request.command == .faceEnroll
                ? enrol.enroll(residentID: resident, frames: min(max(request.frames ?? 3, 1), 5), door: request.door,
                               operatorName: peer.operatorName)
                : enrol.enrolmentProgress(residentID: resident))
        case .status:
            gate.requestStatus(reply: reply)
        case .lockdown:
            guard let active = request.active else {
                reply(.failure("door.lockdown needs active: true or false"))
                return
            }
            gate.submit(.lockdown(door: request.door, active: active), reply: reply)
        case .openDoor:
            var op = peer.operatorName
            if let note = request.operatorNote { op += " (\(note))" }
            gate.submit(.remoteOpen(door: door, operator: op), reply: reply)
        case .simulate:
            guard simulated else {
                reply(.failure("optgated is driving real hardware; start it with --simulate to inject inputs"))
                return
            }
            guard let input = request.input else {
                reply(.failure("simulate needs an input"))
                return
            }
            if case .stall(let seconds) = input {
                guard seconds.isFinite, (0...600).contains(seconds) else {
                    reply(.failure("stall takes 0 to 600 seconds"))
                    return
                }
                gate.stall(for: .milliseconds(Int64(seconds * 1000)), reply: reply)
                return
            }
            switch Self.gateInputs(for: input, door: door) {
            case .success(let inputs):
                // Every key but the last is fire-and-forget; the last one's outcome is the answer.
                for input in inputs.dropLast() { gate.submit(input) }
                gate.submit(inputs[inputs.count - 1], reply: reply)
            case .failure(let error):
                reply(.failure(error.message))
            }
        }
    }

    static func gateInputs(for input: SimulatedInput, door: String) -> Result<[GateInput], ControlServerError> {
        switch input {
        case .card(let text):
            guard let uid = CardUID(text) else {
                return .failure(ControlServerError(message: "a card UID is 4 to 10 bytes in hex"))
            }
            return .success([.card(door: door, uid: uid)])
        case .pin(let digits):
            guard digits.utf8.count <= maximumKeysPerRequest else {
                return .failure(ControlServerError(message: "at most \(maximumKeysPerRequest) keys per request"))
            }
            guard let pin = PIN(digits) else { return .failure(ControlServerError(message: "a PIN is digits only")) }
            return .success(pin.digits.map { .key(door: door, .digit(UInt8($0.wholeNumberValue!))) } + [.key(door: door, .submit)])
        case .keys(let text):
            guard text.utf8.count <= maximumKeysPerRequest else {
                return .failure(ControlServerError(message: "at most \(maximumKeysPerRequest) keys per request; send more in several requests"))
            }
            let keys = text.compactMap(KeypadKey.init(character:))
            guard !keys.isEmpty, keys.count == text.count else {
                return .failure(ControlServerError(message: "keys are 0-9, # and *"))
            }
            return .success(keys.map { .key(door: door, $0) })
        case .rex:
            return .success([.exitRequest(door: door)])
        case .contact(let open):
            return .success([.contact(door: door, open: open)])
        case .fire(let active):
            return .success([.fire(door: nil, active: active)])
        case .tamper:
            return .success([.tamper(door: door)])
        case .stall:
            return .failure(ControlServerError(message: "stall is not a door input"))
        }
    }
}
