/// Command codes the control panel sends (SIA OSDP 2.2 §6).
public enum OSDPCommandCode: UInt8, Sendable {
    case poll = 0x60, id = 0x61, cap = 0x62, lstat = 0x64, istat = 0x65, led = 0x69, buz = 0x6A
    case keyset = 0x75, chlng = 0x76, scrypt = 0x77
}

/// Reply codes (SIA OSDP 2.2 §7).
public enum OSDPReplyCode: UInt8, Sendable {
    case ack = 0x40, nak = 0x41, pdid = 0x45, pdcap = 0x46, lstatr = 0x48, istatr = 0x49, raw = 0x50
    case keypad = 0x53, ccrypt = 0x76, rmacI = 0x78, busy = 0x79
}

/// A reader LED command: a temporary pattern, then back to the permanent state.
public struct OSDPLED: Sendable, Hashable {
    public enum Color: UInt8, Sendable { case black = 0, red = 1, green = 2, amber = 3, blue = 4 }
    public var color: Color
    /// How long the temporary colour shows, in 100 ms units.
    public var duration: UInt16
    public var permanent: Color

    public init(color: Color, duration: UInt16, permanent: Color = .black) {
        self.color = color
        self.duration = duration
        self.permanent = permanent
    }

    /// The 14 data bytes: reader 0, LED 0, temporary set (on/off times in 100 ms, colours, timer), permanent set.
    var data: [UInt8] {
        [0, 0,
         0x02, 0x01, 0x00, color.rawValue, Color.black.rawValue, UInt8(truncatingIfNeeded: duration), UInt8(truncatingIfNeeded: duration >> 8),
         0x01, 0x01, 0x00, permanent.rawValue, Color.black.rawValue]
    }
}

/// A buzzer command: `count` beeps of `on`/`off` in 100 ms units.
public struct OSDPBuzzer: Sendable, Hashable {
    public var on: UInt8
    public var off: UInt8
    public var count: UInt8

    public init(on: UInt8, off: UInt8, count: UInt8) {
        self.on = on
        self.off = off
        self.count = count
    }

    /// Reader 0, tone 2 (default tone), on, off, count.
    var data: [UInt8] { [0, 0x02, on, off, count] }
}

/// What the CP can ask of a PD.
public enum OSDPCommand: Sendable, Hashable {
    case poll, id, capabilities, localStatus, inputStatus
    case led(OSDPLED)
    case buzzer(OSDPBuzzer)
    /// A new SCBK (KEYSET type 1, 16 bytes); only inside the secure channel.
    case keyset([UInt8])
    case challenge(cpRandom: [UInt8])
    case serverCryptogram([UInt8])

    var code: UInt8 {
        switch self {
        case .poll: OSDPCommandCode.poll.rawValue
        case .id: OSDPCommandCode.id.rawValue
        case .capabilities: OSDPCommandCode.cap.rawValue
        case .localStatus: OSDPCommandCode.lstat.rawValue
        case .inputStatus: OSDPCommandCode.istat.rawValue
        case .led: OSDPCommandCode.led.rawValue
        case .buzzer: OSDPCommandCode.buz.rawValue
        case .keyset: OSDPCommandCode.keyset.rawValue
        case .challenge: OSDPCommandCode.chlng.rawValue
        case .serverCryptogram: OSDPCommandCode.scrypt.rawValue
        }
    }

    var data: [UInt8] {
        switch self {
        case .poll, .localStatus, .inputStatus: []
        case .id, .capabilities: [0]
        case .led(let led): led.data
        case .buzzer(let buzzer): buzzer.data
        case .keyset(let key): [1, UInt8(key.count)] + key
        case .challenge(let random): random
        case .serverCryptogram(let cryptogram): cryptogram
        }
    }

    /// A short name for logs (never key material).
    public var name: String {
        switch self {
        case .poll: "POLL"
        case .id: "ID"
        case .capabilities: "CAP"
        case .localStatus: "LSTAT"
        case .inputStatus: "ISTAT"
        case .led: "LED"
        case .buzzer: "BUZ"
        case .keyset: "KEYSET"
        case .challenge: "CHLNG"
        case .serverCryptogram: "SCRYPT"
        }
    }
}

/// One capability from PDCAP: function code, compliance level, number of items.
public struct OSDPCapability: Sendable, Hashable {
    public var function: UInt8
    public var compliance: UInt8
    public var items: UInt8

    public static let communicationSecurity: UInt8 = 9
    public static let checkCharacter: UInt8 = 8
}

/// A decoded reply. Anything malformed is `.malformed`, never a partial value.
public enum OSDPReply: Sendable, Hashable {
    case ack
    case nak(UInt8)
    case busy
    case identity(vendor: UInt32, model: UInt8, version: UInt8, serial: UInt32, firmware: UInt32)
    case capabilities([OSDPCapability])
    case localStatus(tamper: Bool, power: Bool)
    case inputStatus([UInt8])
    /// Card data: format 0 raw/unspecified, 1 Wiegand; `bits` significant bits, most significant first.
    case card(reader: UInt8, format: UInt8, bitCount: Int, bytes: [UInt8])
    case keypad(reader: UInt8, keys: [UInt8])
    case clientCryptogram(uid: [UInt8], pdRandom: [UInt8], cryptogram: [UInt8])
    case initialReplyMAC([UInt8])
    case unknown(code: UInt8)
    case malformed(code: UInt8)

    public init(code: UInt8, data: [UInt8]) {
        let d = data
        switch OSDPReplyCode(rawValue: code) {
        case .ack: self = d.isEmpty ? .ack : .malformed(code: code)
        case .nak: self = d.count >= 1 ? .nak(d[0]) : .malformed(code: code)
        case .busy: self = .busy
        case .pdid:
            guard d.count == 12 else { self = .malformed(code: code); return }
            self = .identity(vendor: UInt32(d[0]) | UInt32(d[1]) << 8 | UInt32(d[2]) << 16, model: d[3], version: d[4],
                             serial: UInt32(d[5]) | UInt32(d[6]) << 8 | UInt32(d[7]) << 16 | UInt32(d[8]) << 24,
                             firmware: UInt32(d[9]) << 16 | UInt32(d[10]) << 8 | UInt32(d[11]))
        case .pdcap:
            guard d.count % 3 == 0 else { self = .malformed(code: code); return }
            self = .capabilities(stride(from: 0, to: d.count, by: 3).map {
                OSDPCapability(function: d[$0], compliance: d[$0 + 1], items: d[$0 + 2])
            })
        case .lstatr:
            guard d.count == 2 else { self = .malformed(code: code); return }
            self = .localStatus(tamper: d[0] != 0, power: d[1] != 0)
        case .istatr: self = .inputStatus(d)
        case .raw:
            guard d.count >= 4 else { self = .malformed(code: code); return }
            let bits = Int(d[2]) | Int(d[3]) << 8
            guard bits > 0, (bits + 7) / 8 == d.count - 4 else { self = .malformed(code: code); return }
            self = .card(reader: d[0], format: d[1], bitCount: bits, bytes: Array(d[4...]))
        case .keypad:
            guard d.count >= 2, Int(d[1]) == d.count - 2 else { self = .malformed(code: code); return }
            self = .keypad(reader: d[0], keys: Array(d[2...]))
        case .ccrypt:
            guard d.count == 32 else { self = .malformed(code: code); return }
            self = .clientCryptogram(uid: Array(d[0..<8]), pdRandom: Array(d[8..<16]), cryptogram: Array(d[16..<32]))
        case .rmacI:
            guard d.count == 16 else { self = .malformed(code: code); return }
            self = .initialReplyMAC(d)
        case nil:
            self = .unknown(code: code)
        }
    }
}
