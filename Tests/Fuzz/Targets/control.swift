// Fuzz target: the control socket's input path. The bytes arrive in chunks (sizes taken from the input)
// through the server's line framer; every complete line is decoded as the server decodes it, and a
// request that decodes must survive the CLI's encode → the daemon's decode unchanged.
import Foundation
import GateControl

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzReader(data, size)
    // Small limit too, so the overlong path is reached by small inputs.
    let limit = input.byte() & 1 == 0 ? ControlRequest.maximumLength : 64
    var framer = ControlLineFramer(maximumLength: limit)
    let payload = input.rest()
    var offset = 0
    var lines: [[UInt8]] = []
    var chunkSize = 1
    while offset < payload.count {
        let end = min(payload.count, offset + chunkSize)
        framer.append(payload[offset..<end])
        offset = end
        chunkSize = chunkSize % 4093 + 7
        while let line = framer.nextLine() {
            require(!line.contains(UInt8(ascii: "\n")), "a framed line contains a newline")
            lines.append(line)
        }
        if framer.isOverlong { break }
    }
    // Lines are exactly the input up to its last newline before the point where reading stopped.
    let framed = lines.map { $0 + [UInt8(ascii: "\n")] }.joined()
    require(Array(framed) == Array(payload[..<framed.count]), "the framer lost or reordered bytes")

    let decoder = JSONDecoder()
    let encoder = JSONEncoder()
    for line in lines {
        guard let request = try? decoder.decode(ControlRequest.self, from: Data(line)) else { continue }
        let encoded: Data
        do { encoded = try encoder.encode(request) } catch { fatalError("a decoded request does not encode: \(error)") }
        guard let again = try? decoder.decode(ControlRequest.self, from: encoded) else {
            fatalError("the daemon refuses what the CLI encodes: \(String(decoding: encoded, as: UTF8.self))")
        }
        require(again == request, "a request changed on its way through encode and decode")
        _ = ControlResponse.failure("\(request.command.rawValue) \(request.door ?? "")")
    }
    return 0
}
