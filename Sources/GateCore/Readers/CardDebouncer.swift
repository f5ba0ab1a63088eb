/// Suppresses repeated reads of the card lying on a reader.
///
/// A card is reported when it arrives. The same card is not reported again while it stays on the
/// reader, nor within `holdoff` of its last report even if it was lifted in between (a card at the edge
/// of the field flickers present/absent). A different card is always reported at once.
public struct CardDebouncer<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public var holdoff: Duration
    private var last: (card: String, at: Instant)?
    private var removedSinceLast = true

    public init(holdoff: Duration = .seconds(2)) {
        self.holdoff = holdoff
    }

    /// A card with identifier `card` is on the reader.
    /// - Returns: `true` when the read should be submitted.
    public mutating func present(_ card: String, at now: Instant) -> Bool {
        if let last, last.card == card, !removedSinceLast || last.at.duration(to: now) < holdoff {
            return false
        }
        last = (card, now)
        removedSinceLast = false
        return true
    }

    /// The reader reports no card.
    public mutating func removed() {
        removedSinceLast = true
    }
}
