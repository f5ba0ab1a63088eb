public import GateControl
import GateCore

/// What `optgate status` reports about the optional services and the audit store, written by the
/// supervisors and the audit journal from their own threads, read by the decision loop.
public final class HealthBoard: Sendable {
    private let services = Locked<[String: ServiceHealth]>([:])
    private let storageState = Locked(StorageHealth())

    public init() {}

    /// Every supervised service, by name.
    public var serviceStates: [ServiceHealth] { services.value.values.sorted { $0.name < $1.name } }

    public var storage: StorageHealth {
        get { storageState.value }
        set { storageState.value = newValue }
    }

    func update(_ health: ServiceHealth) {
        services.withLockedValue { $0[health.name] = health }
    }

    func updateStorage(_ body: (inout StorageHealth) -> Void) {
        storageState.withLockedValue(body)
    }
}
