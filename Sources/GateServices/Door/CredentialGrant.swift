public import GateCore

/// A card or PIN granted to a resident at a door, as the decision loop tells its observers
/// (`GateService.observeCredentialGrants`). Observers take the time of the call as the time of the grant.
public struct CredentialGrant: Sendable, Hashable {
    public var residentID: String
    public var door: String
    /// `.card` or `.pin`.
    public var method: AccessMethod

    public init(residentID: String, door: String, method: AccessMethod) {
        self.residentID = residentID
        self.door = door
        self.method = method
    }
}
