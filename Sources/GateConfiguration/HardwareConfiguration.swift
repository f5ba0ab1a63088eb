/// `doors[i].gpio`: the door's relay and input lines on one GPIO chip (docs/hardware.md has the wiring).
/// Every line is optional except the relay; "active" is the level that means energise / open / pressed /
/// alarm, so a normally-closed contact wired to pull the line low when the door is closed is
/// `contactActiveLow: false` if the line reads high when the door opens.
public struct DoorGPIOConfiguration: Sendable, Hashable {
    /// `chip` (string, required): `gpiochip0`, `/dev/gpiochip0` or (libgpiod 1.x) a chip label.
    public var chip: String
    /// `relayLine` (integer, required, 0–1023) and `relayActiveLow` (bool, default false: high energises).
    public var relayLine: UInt32
    public var relayActiveLow: Bool
    /// `contactLine` (0–1023, default none) and `contactActiveLow` (bool, default false): active = door open.
    public var contactLine: UInt32?
    public var contactActiveLow: Bool
    /// `rexLine` and `rexActiveLow` (default true: a push button to ground with a pull-up): active = exit request.
    public var rexLine: UInt32?
    public var rexActiveLow: Bool
    /// `fireLine` and `fireActiveLow` (default false): active = fire alarm, releases every door.
    public var fireLine: UInt32?
    public var fireActiveLow: Bool
    /// `tamperLine` and `tamperActiveLow` (default false): active = enclosure opened / reader removed.
    public var tamperLine: UInt32?
    public var tamperActiveLow: Bool
    /// `debounceMilliseconds` (integer, default 50, 0–1000): a level must hold this long to count.
    public var debounceMilliseconds: Int

    /// The input lines in use, with the role each plays.
    public var inputs: [(role: DoorInputRole, line: UInt32, activeLow: Bool)] {
        var result: [(DoorInputRole, UInt32, Bool)] = []
        if let contactLine { result.append((.contact, contactLine, contactActiveLow)) }
        if let rexLine { result.append((.exitRequest, rexLine, rexActiveLow)) }
        if let fireLine { result.append((.fire, fireLine, fireActiveLow)) }
        if let tamperLine { result.append((.tamper, tamperLine, tamperActiveLow)) }
        return result
    }

    init(_ object: inout ConfigObject) throws(ConfigurationError) {
        guard let chip = try object.string("chip", default: nil) else {
            throw ConfigurationError(key: "\(object.path).chip", problem: "a GPIO door needs its chip, e.g. \"gpiochip0\"")
        }
        self.chip = chip
        guard let relay = try object.lineIfPresent("relayLine") else {
            throw ConfigurationError(key: "\(object.path).relayLine", problem: "a GPIO door needs its relay line")
        }
        relayLine = relay
        relayActiveLow = try object.bool("relayActiveLow", default: false)
        contactLine = try object.lineIfPresent("contactLine")
        contactActiveLow = try object.bool("contactActiveLow", default: false)
        rexLine = try object.lineIfPresent("rexLine")
        rexActiveLow = try object.bool("rexActiveLow", default: true)
        fireLine = try object.lineIfPresent("fireLine")
        fireActiveLow = try object.bool("fireActiveLow", default: false)
        tamperLine = try object.lineIfPresent("tamperLine")
        tamperActiveLow = try object.bool("tamperActiveLow", default: false)
        debounceMilliseconds = try object.integer("debounceMilliseconds", default: 50, range: 0...1000)
        var seen: [UInt32: String] = [relayLine: "relayLine"]
        for (key, line) in [("contactLine", contactLine), ("rexLine", rexLine), ("fireLine", fireLine), ("tamperLine", tamperLine)] {
            guard let line else { continue }
            if let other = seen[line] {
                throw ConfigurationError(key: "\(object.path).\(key)", problem: "line \(line) is already used as \(other)")
            }
            seen[line] = key
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.chip == rhs.chip && lhs.relayLine == rhs.relayLine && lhs.relayActiveLow == rhs.relayActiveLow
            && lhs.contactLine == rhs.contactLine && lhs.contactActiveLow == rhs.contactActiveLow
            && lhs.rexLine == rhs.rexLine && lhs.rexActiveLow == rhs.rexActiveLow
            && lhs.fireLine == rhs.fireLine && lhs.fireActiveLow == rhs.fireActiveLow
            && lhs.tamperLine == rhs.tamperLine && lhs.tamperActiveLow == rhs.tamperActiveLow
            && lhs.debounceMilliseconds == rhs.debounceMilliseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(chip)
        hasher.combine(relayLine)
    }
}

/// What an input line means to the door.
public enum DoorInputRole: String, Sendable, Hashable {
    case contact, exitRequest, fire, tamper
}

/// `face.source.camera`: a V4L2 camera (docs/hardware.md).
public struct CameraConfiguration: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// MJPEG when offered, else YUYV, else 8-bit grey (`GREY`, the usual format of a near-infrared camera).
        case auto, mjpeg, yuyv, grey
    }

    /// `device` (path, required): `/dev/video0` or, better, a `/dev/v4l/by-id/…` or `/dev/v4l/by-path/…` symlink.
    public var device: String
    /// `width` (integer, default 640, 16–4096), `height` (default 480, 16–4096): asked for; drivers round.
    public var width: Int
    public var height: Int
    /// `fps` (number, default 15, 1–120): asked for where the driver lets the rate be set.
    public var fps: Double
    /// `format` (auto|mjpeg|yuyv|grey, default auto).
    public var format: Format
    /// `buffers` (integer, default 4, 2–16): mmap capture buffers.
    public var buffers: Int
    /// `stallSeconds` (number, default 5, 1–60): no frame for this long counts as a lost camera (closed,
    /// reopened with backoff), as a stuck USB camera needs.
    public var stallSeconds: Double

    init(_ object: inout ConfigObject) throws(ConfigurationError) {
        guard let device = try object.string("device", default: nil) else {
            throw ConfigurationError(key: "\(object.path).device", problem: "a camera needs its device, e.g. \"/dev/video0\"")
        }
        self.device = device
        width = try object.integer("width", default: 640, range: 16...4096)
        height = try object.integer("height", default: 480, range: 16...4096)
        fps = try object.number("fps", default: 15, range: 1...120)
        format = try object.choice("format", default: Format.auto)
        buffers = try object.integer("buffers", default: 4, range: 2...16)
        stallSeconds = try object.number("stallSeconds", default: 5, range: 1...60)
    }
}

extension ConfigObject {
    /// A GPIO line offset (0–1023), or `nil` when the key is absent.
    mutating func lineIfPresent(_ key: String) throws(ConfigurationError) -> UInt32? {
        guard has(key) else {
            _ = try string(key, default: nil)  // marks the key as known
            return nil
        }
        return UInt32(try integer(key, default: 0, range: 0...1023))
    }
}
