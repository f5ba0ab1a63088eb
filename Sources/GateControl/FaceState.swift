/// Whether face entry works, as `optgate status` shows it. Sent as one string: `off`, `on`, `degraded`
/// or `disabled: <reason>` (the control socket's and `status --json`'s contract).
public enum FaceState: Sendable, Hashable {
    /// No door accepts face, or no camera is configured.
    case off
    /// Frames are analysed.
    case on
    /// On, but the last ``FaceStatus/degradedAfter`` or more frames were all skipped: the camera delivers
    /// frames none of which can be used (corrupt JPEGs, a failing model).
    case degraded
    /// Face entry is configured but not running: the models did not load, or the camera failed (and is
    /// retried); `reason` says which in a sentence.
    case disabled(reason: String)

    /// Whether frames are being analysed (`on` or `degraded`).
    public var isRunning: Bool { self == .on || self == .degraded }
}

extension FaceState: RawRepresentable, Codable, CustomStringConvertible {
    private static let disabledPrefix = "disabled: "

    public var rawValue: String {
        switch self {
        case .off: "off"
        case .on: "on"
        case .degraded: "degraded"
        case .disabled(let reason): Self.disabledPrefix + reason
        }
    }

    /// - Returns: `nil` for text no daemon sends.
    public init?(rawValue: String) {
        switch rawValue {
        case "off": self = .off
        case "on": self = .on
        case "degraded": self = .degraded
        case _ where rawValue.hasPrefix(Self.disabledPrefix): self = .disabled(reason: String(rawValue.dropFirst(Self.disabledPrefix.count)))
        default: return nil
        }
    }

    public var description: String { rawValue }

    /// A state this CLI does not know (from a newer daemon) reads as `disabled` with the text as its reason.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = FaceState(rawValue: text) ?? .disabled(reason: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
