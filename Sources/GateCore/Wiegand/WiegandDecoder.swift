/// Which Wiegand data line pulsed low: D0 carries a 0 bit, D1 a 1 bit.
public enum WiegandLine: Sendable, Hashable {
    case d0
    case d1
}

/// Timing rules for assembling Wiegand frames from pulses.
public struct WiegandTiming: Sendable, Hashable {
    /// Silence after the last bit that ends a frame. Readers space bits 200 µs–20 ms apart (SIA), so
    /// the default 25 ms never splits a frame.
    public var frameGap: Duration
    /// Two bits closer than this are noise (crosstalk, bounce); the frame is refused as a glitch.
    public var minimumBitInterval: Duration

    public init(frameGap: Duration = .milliseconds(25), minimumBitInterval: Duration = .microseconds(100)) {
        self.frameGap = frameGap
        self.minimumBitInterval = minimumBitInterval
    }
}

/// Counts of what the decoder produced; rejected frames are counted by reason, never turned into numbers.
public struct WiegandStatistics: Sendable, Hashable {
    public var cards = 0
    public var keys = 0
    public var rejected: [WiegandRejection: Int] = [:]

    public var rejectedTotal: Int { rejected.values.reduce(0, +) }
}

/// Assembles Wiegand bits from timestamped D0/D1 pulses into frames and decodes them.
///
/// Feed every falling edge to `pulse(_:at:)` with the time the kernel (or the MCU bridge) stamped
/// it, and call `tick(at:)` when `nextDeadline` passes: a frame ends after `timing.frameGap` of
/// silence. A pulse that arrives after the gap first completes the previous frame, so the decoder works
/// even when ticks are late. Frames are decoded with `WiegandFormat`; anything that does not decode
/// cleanly is rejected and counted in `statistics`.
///
/// Time is a parameter: the decoder never reads a clock, so recorded edge sequences replay exactly.
public struct WiegandDecoder<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public var timing: WiegandTiming
    public var formats: Set<WiegandFormat>
    public private(set) var statistics = WiegandStatistics()
    private var bits: [Bool] = []
    private var lastBitAt: Instant?
    private var glitched = false

    /// - Parameters:
    ///   - formats: the formats to accept; every frame length outside them is refused.
    public init(timing: WiegandTiming = WiegandTiming(), formats: Set<WiegandFormat> = Set(WiegandFormat.allCases)) {
        self.timing = timing
        self.formats = formats
    }

    /// When the frame being received ends if no further pulse arrives; `nil` when idle.
    public var nextDeadline: Instant? {
        lastBitAt?.advanced(by: timing.frameGap)
    }

    /// One pulse on D0 or D1.
    /// - Returns: the previous frame's message when this pulse arrived after the frame gap (the tick
    ///   was missed), else `nil`.
    public mutating func pulse(_ line: WiegandLine, at now: Instant) -> WiegandMessage? {
        var completed: WiegandMessage?
        if let last = lastBitAt {
            let interval = last.duration(to: now)
            if interval >= timing.frameGap {
                completed = finish()
            } else if interval < timing.minimumBitInterval {
                glitched = true
            }
        }
        // A stuck line or a flood must not grow without bound: past the longest format the frame is
        // refused anyway, so stop storing bits (but keep counting them).
        if bits.count <= longestFormat { bits.append(line == .d1) } else { overflow = true }
        lastBitAt = now
        return completed
    }

    /// Ends the frame when the gap has passed.
    /// - Returns: the frame's message, or `nil` when no frame ended.
    public mutating func tick(at now: Instant) -> WiegandMessage? {
        guard let deadline = nextDeadline, deadline <= now else { return nil }
        return finish()
    }

    private var overflow = false

    private var longestFormat: Int { formats.map(\.bitCount).max() ?? 0 }
    private var shortestFormat: Int { formats.map(\.bitCount).min() ?? 0 }

    private mutating func finish() -> WiegandMessage {
        defer {
            bits.removeAll(keepingCapacity: true)
            lastBitAt = nil
            glitched = false
            overflow = false
        }
        let message: WiegandMessage
        if glitched {
            message = .rejected(.glitch)
        } else if overflow || bits.count > longestFormat {
            message = .rejected(.overlong)
        } else if bits.count < shortestFormat {
            message = .rejected(.truncated)
        } else if let format = WiegandFormat.matching(bitCount: bits.count, among: formats) {
            message = format.decode(bits)
        } else {
            message = .rejected(.unknownLength)
        }
        switch message {
        case .card: statistics.cards += 1
        case .key: statistics.keys += 1
        case .rejected(let reason): statistics.rejected[reason, default: 0] += 1
        }
        return message
    }
}
