/// OSDP v2 packet framing (SIA OSDP 2.2 §5, IEC 60839-11-5): the bytes on the RS-485 line.
///
/// ```
/// [0xFF mark] SOM(0x53) ADDR LEN_LSB LEN_MSB CTRL [SCB: len type data…] CODE DATA… [MAC 4] CHECK(1 or 2)
/// ```
/// `ADDR` bit 7 marks a reply; `CTRL` bits 0–1 are the sequence number, bit 2 selects CRC-16 (else a
/// one-byte checksum), bit 3 says a security block follows. `LEN` counts from SOM through the check
/// bytes (the optional 0xFF mark byte is not counted). The MAC is present for security block types
/// SCS_15…SCS_18 and covers every byte from SOM through the last data byte.
public struct OSDPFrame: Sendable, Hashable {
    public static let startOfMessage: UInt8 = 0x53
    public static let mark: UInt8 = 0xFF
    /// The largest packet this control panel sends or accepts (the spec's PDs commonly take 128–1440).
    public static let maximumLength = 1024

    /// 0…0x7E, 0x7F is broadcast.
    public var address: UInt8
    public var isReply: Bool
    /// 0 restarts the link; then 1, 2, 3, 1, …
    public var sequence: UInt8
    public var usesCRC: Bool
    /// The whole security block (its length byte, type and data), or `nil`.
    public var securityBlock: [UInt8]?
    /// The command or reply code.
    public var code: UInt8
    /// The data after the code, as on the wire (still encrypted for SCS_17/SCS_18).
    public var data: [UInt8]
    /// The 4 MAC bytes, present exactly when the security block type is SCS_15…SCS_18.
    public var mac: [UInt8]?

    public init(address: UInt8, isReply: Bool, sequence: UInt8, usesCRC: Bool = true, securityBlock: [UInt8]? = nil,
                code: UInt8, data: [UInt8] = [], mac: [UInt8]? = nil) {
        self.address = address
        self.isReply = isReply
        self.sequence = sequence
        self.usesCRC = usesCRC
        self.securityBlock = securityBlock
        self.code = code
        self.data = data
        self.mac = mac
    }

    /// The security block type (SCS_11…SCS_18), if any.
    public var securityType: UInt8? { securityBlock.flatMap { $0.count >= 2 ? $0[1] : nil } }

    /// Whether a frame with this security block carries a MAC.
    static func hasMAC(securityType: UInt8?) -> Bool { securityType.map { (0x15...0x18).contains($0) } ?? false }

    /// The bytes the MAC covers: SOM through the last data byte, with the length field already counting the
    /// MAC (`includingMAC`) and the check bytes.
    public func authenticatedBytes(includingMAC: Bool) -> [UInt8] {
        var bytes: [UInt8] = [Self.startOfMessage, (address & 0x7F) | (isReply ? 0x80 : 0)]
        let total = 5 + (securityBlock?.count ?? 0) + 1 + data.count + (includingMAC ? 4 : 0) + (usesCRC ? 2 : 1)
        bytes.append(UInt8(truncatingIfNeeded: total))
        bytes.append(UInt8(truncatingIfNeeded: total >> 8))
        var control = sequence & 0x03
        if usesCRC { control |= 0x04 }
        if securityBlock != nil { control |= 0x08 }
        bytes.append(control)
        if let securityBlock { bytes += securityBlock }
        bytes.append(code)
        bytes += data
        return bytes
    }

    /// The frame on the wire, with the mark byte when `mark` is set.
    public func encoded(mark: Bool = true) -> [UInt8] {
        var bytes = authenticatedBytes(includingMAC: mac != nil)
        if let mac { bytes += mac }
        if usesCRC {
            let crc = OSDPCheck.crc16(bytes)
            bytes += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
        } else {
            bytes.append(OSDPCheck.checksum(bytes))
        }
        return mark ? [Self.mark] + bytes : bytes
    }
}

/// The two check characters OSDP allows.
public enum OSDPCheck {
    /// CRC-16 with polynomial 0x1021, initial value 0x1D0F, no reflection (CRC-16/AUG-CCITT); sent LSB first.
    public static func crc16<Bytes: Sequence>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var crc: UInt16 = 0x1D0F
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }

    /// The two's complement of the byte sum: all bytes plus the checksum add up to 0 (mod 256).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt8 where Bytes.Element == UInt8 {
        0 &- bytes.reduce(UInt8(0), &+)
    }
}

/// Why bytes on the line were not a frame. Reported, counted and skipped; never fatal.
public enum OSDPFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    case badLength(Int)
    case badCheck
    case badSecurityBlock

    public var description: String {
        switch self {
        case .badLength(let length): "a frame announced an impossible length (\(length))"
        case .badCheck: "a frame failed its CRC or checksum"
        case .badSecurityBlock: "a frame's security block is malformed"
        }
    }
}

/// Cuts frames out of a byte stream: skips noise before SOM, waits for the announced length, checks the
/// CRC or checksum, and after a bad frame resynchronises on the next SOM. Bounded memory whatever arrives.
public struct OSDPFrameReader: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes discarded as noise (outside any frame).
    public private(set) var discarded = 0

    public init() {}

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer += bytes
        if buffer.count > 4 * OSDPFrame.maximumLength {
            // Cannot happen with next() called after each append; a bound all the same.
            discarded += buffer.count - OSDPFrame.maximumLength
            buffer.removeFirst(buffer.count - OSDPFrame.maximumLength)
        }
    }

    /// Drops whatever partial frame is buffered (after a timeout: the rest will never come).
    public mutating func reset() {
        discarded += buffer.count
        buffer.removeAll()
    }

    /// The next complete frame, an error for a broken one (its SOM is skipped), or `nil` when more bytes are needed.
    public mutating func next() -> Result<OSDPFrame, OSDPFrameError>? {
        while true {
            guard let start = buffer.firstIndex(of: OSDPFrame.startOfMessage) else {
                discarded += buffer.count
                buffer.removeAll()
                return nil
            }
            if start > 0 {
                // The 0xFF mark byte before SOM is not noise.
                discarded += buffer[..<start].filter { $0 != OSDPFrame.mark }.count
                buffer.removeFirst(start)
            }
            guard buffer.count >= 5 else { return nil }
            let length = Int(buffer[2]) | Int(buffer[3]) << 8
            let usesCRC = buffer.count > 4 && buffer[4] & 0x04 != 0
            let minimum = 6 + (usesCRC ? 2 : 1)
            guard length >= minimum, length <= OSDPFrame.maximumLength else {
                buffer.removeFirst()
                discarded += 1
                return .failure(.badLength(length))
            }
            guard buffer.count >= length else { return nil }
            let packet = Array(buffer[0..<length])
            let result = Self.parse(packet, usesCRC: usesCRC)
            if case .success = result {
                buffer.removeFirst(length)
            } else {
                buffer.removeFirst()
                discarded += 1
            }
            return result
        }
    }

    static func parse(_ packet: [UInt8], usesCRC: Bool) -> Result<OSDPFrame, OSDPFrameError> {
        let checkLength = usesCRC ? 2 : 1
        let body = packet[0..<(packet.count - checkLength)]
        if usesCRC {
            let crc = UInt16(packet[packet.count - 2]) | UInt16(packet[packet.count - 1]) << 8
            guard OSDPCheck.crc16(body) == crc else { return .failure(.badCheck) }
        } else {
            guard OSDPCheck.checksum(body) == packet[packet.count - 1] else { return .failure(.badCheck) }
        }
        let control = packet[4]
        var index = 5
        var securityBlock: [UInt8]?
        if control & 0x08 != 0 {
            let blockLength = Int(packet[index])
            guard blockLength >= 2, index + blockLength < body.count else { return .failure(.badSecurityBlock) }
            securityBlock = Array(packet[index..<(index + blockLength)])
            index += blockLength
        }
        let type = securityBlock.map { $0[1] }
        var end = body.count
        var mac: [UInt8]?
        if OSDPFrame.hasMAC(securityType: type) {
            guard end - 4 > index else { return .failure(.badSecurityBlock) }
            mac = Array(packet[(end - 4)..<end])
            end -= 4
        }
        guard index < end else { return .failure(.badLength(packet.count)) }
        return .success(OSDPFrame(
            address: packet[1] & 0x7F, isReply: packet[1] & 0x80 != 0, sequence: control & 0x03, usesCRC: usesCRC,
            securityBlock: securityBlock, code: packet[index], data: Array(packet[(index + 1)..<end]), mac: mac
        ))
    }
}
