/// How a person asked the door to open.
///
/// Face is one method among equals: every resident can use a card or a PIN instead (R1), and the
/// access policy treats them identically apart from how the credential is matched.
public enum AccessMethod: String, Sendable, Hashable, CaseIterable, Codable {
    case face
    case card
    case pin
    /// An operator opened the door through the admin CLI.
    case remote
    /// Request-to-exit button on the secure side.
    case rex
    /// Fire-alarm input released the door.
    case fire
    /// A visitor pass: its one-off code at the keypad or its signed QR code at the camera (docs/visitors.md).
    case visitor

    /// Methods that identify a resident by a credential they present.
    public static let credentialMethods: Set<AccessMethod> = [.face, .card, .pin]
}
