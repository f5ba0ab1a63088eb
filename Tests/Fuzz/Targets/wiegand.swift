// Fuzz target: the Wiegand decoder, fed timestamped D0/D1 pulses and ticks, and every format's frame
// decoder fed raw bit strings. Each message must be counted exactly once, a card must come with its
// format's bit length, and no frame may crash the decoder.
import GateCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzReader(data, size)
    let selector = input.byte()
    let formats = Set(WiegandFormat.allCases.enumerated().filter { selector & (1 << $0.offset) != 0 }.map(\.element))
    var decoder = WiegandDecoder<FuzzInstant>(formats: formats.isEmpty ? Set(WiegandFormat.allCases) : formats)
    var now = FuzzInstant(offset: .zero)
    var messages: [WiegandMessage] = []
    while !input.isAtEnd {
        let command = input.byte()
        now = now.advanced(by: input.step())
        switch command & 3 {
        case 0: if let message = decoder.pulse(.d0, at: now) { messages.append(message) }
        case 1: if let message = decoder.pulse(.d1, at: now) { messages.append(message) }
        case 2: if let message = decoder.tick(at: now) { messages.append(message) }
        default:
            // A whole frame in one go: `command >> 2` bits from the following bytes, 200 µs apart.
            let count = Int(command >> 2)
            for index in 0..<count {
                if index % 8 == 0 { _ = input.byte() }
                let bit = (command >> UInt8(index % 6)) & 1 == 1
                now = now.advanced(by: .microseconds(200))
                if let message = decoder.pulse(bit ? .d1 : .d0, at: now) { messages.append(message) }
            }
        }
        require(decoder.nextDeadline.map { $0 > now.advanced(by: .seconds(-1_000_000)) } ?? true)
    }
    if let deadline = decoder.nextDeadline, let message = decoder.tick(at: deadline) { messages.append(message) }
    require(decoder.nextDeadline == nil, "the decoder is still in a frame after its deadline")
    let statistics = decoder.statistics
    require(statistics.cards + statistics.keys + statistics.rejectedTotal == messages.count,
                 "a message was not counted exactly once")

    // Frame decoders on raw bits of their own length.
    var reader = FuzzReader(data, size)
    _ = reader.byte()
    for format in WiegandFormat.allCases {
        let bits = (0..<format.bitCount).map { _ in reader.byte() & 1 == 1 }
        if case .rejected(let reason) = format.decode(bits) { require(!reason.description.isEmpty) }
    }
    return 0
}
