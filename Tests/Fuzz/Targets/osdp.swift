// Fuzz target: bytes on an OSDP line as the control panel reads them. The input drives a link through
// its phases: the first byte picks the reader's security (secure, insecure, pairing), the rest arrives in
// chunks whose sizes come from the input too, interleaved with the CP's own sends and timeouts. Garbage,
// truncated, CRC-broken and well-formed-but-hostile frames must never crash, never make a secure link
// online without the handshake, and never grow the reader's buffer without bound.
import OSDP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = input.first else { return 0 }
    let security: OSDPPeripheral.Security = switch first % 3 {
    case 0: .secure(scbk: Array(0x40..<0x50))
    case 1: .insecure
    default: .pairing(newKey: Array(0x50..<0x60))
    }
    var now = FuzzInstant(offset: .zero)
    var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: security), timing: OSDPTiming(), now: now,
                        random: { Array(0xB0..<0xB8) })
    var reader = OSDPFrameReader()
    var rest = input.dropFirst()
    while !rest.isEmpty {
        _ = link.transmit(at: now)
        let chunk = Int(rest.removeFirst() % 64)
        reader.append(rest.prefix(chunk))
        rest = rest.dropFirst(chunk)
        while let result = reader.next() {
            guard case .success(var frame) = result else { continue }
            // Half the time pretend the reply is for this link and in sequence, to reach deeper states.
            if frame.code & 1 == 0 { frame.address = 1; frame.isReply = true }
            for event in link.receive(frame, at: now) {
                if case .online(let secure) = event, case .secure = security { require(secure, "a secure reader came online in clear") }
                if case .card = event, case .secure = security { require(link.isSecure, "a card was taken outside the secure channel") }
            }
            // Every frame that parses re-encodes to something that parses to the same frame.
            var again = OSDPFrameReader()
            again.append(frame.encoded())
            if case .success(let copy)? = again.next() { require(copy == frame, "a frame does not round-trip") }
        }
        now = now.advanced(by: .milliseconds(Int64(chunk * 7)))
        _ = link.tick(at: now)
        _ = OSDPReply(code: rest.first ?? 0, data: Array(rest.prefix(40)))
    }
    return 0
}
