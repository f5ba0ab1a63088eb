/// What a door asks of a resident in a period (ZKTeco and Hikvision call it the verify mode).
///
/// Face is never the only way in (R1): wherever a mode needs a face, a resident without a consented
/// face template may use the card instead of it.
public enum VerifyMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Any one enabled credential opens: a card, a PIN or a consented face. Today's behaviour.
    case any
    /// A card, then the same resident's PIN within the second-factor timeout.
    case cardPin = "card+pin"
    /// A consented face, then the same resident's PIN within the second-factor timeout; a resident with no
    /// face template uses card + PIN instead.
    case facePin = "face+pin"
    /// The unit code and the PIN on the keypad (`unit#pin#`); a card or a face alone does not open.
    case unitPin = "unit+pin"
}
