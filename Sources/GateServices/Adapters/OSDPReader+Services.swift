import Foundation
public import GateConfiguration
import OSDPLine
public import Logging
public import ServiceLifecycle

extension OSDPReader {
    /// One service per serial line with OSDP readers on it, each reader with its key from `OSDPKeyStore`,
    /// wired to the door (`gate.submit`) and back (decisions → LED/buzzer).
    public static func services(_ configuration: DaemonConfiguration, stateDirectory: String, gate: GateService<ContinuousClock>,
                                logger: Logger) -> [(name: String, service: any Service)] {
        let store = OSDPKeyStore(stateDirectory: stateDirectory)
        var lines: [String: [Member]] = [:]
        var order: [String] = []
        for reader in configuration.readers where reader.kind == .osdp {
            guard let device = reader.device else { continue }
            var member = Member(door: reader.door, settings: reader.osdp, key: nil)
            if !reader.osdp.insecure {
                do {
                    member.key = try store.key(device: device, address: reader.osdp.address)
                } catch {
                    member.keyProblem = "\(error)"
                }
            }
            if lines[device] == nil { order.append(device) }
            lines[device, default: []].append(member)
        }
        return order.map { device in
            let name = "reader osdp \(device)"
            let floodGuard = ReaderFloodGuard(reader: name, logger: logger)
            let reader = OSDPReader(device: device, members: lines[device]!, floodGuard: floodGuard, logger: logger,
                                    sink: floodGuard.guarding { gate.submit($0) })
            gate.observeDecisions { door, decision in reader.decided(door: door, decision: decision) }
            return (name, reader)
        }
    }
}
