import Dispatch
import GRDB
import Synchronization

/// Moves `audit.anchor` to each new head off the writing thread.
///
/// A write of the anchor costs a file `fsync`, a `rename` and a directory `fsync` (about 10 ms on the
/// test machine, ten times a commit), so the store hands each committed head to this serial queue and
/// goes on; when heads arrive faster than the anchor can be written, only the newest is written. An
/// anchor one write behind is never a finding (the database extends it), so a crash in between loses
/// nothing but a few milliseconds of anchoring. `flush()` waits for the newest head to be anchored;
/// the store calls it before every verification, before publishing a head, and when it is closed.
final class AuditAnchorWriter: Sendable {
    let file: AuditAnchorFile
    private let keys: DeviceKeys
    private let database: DatabasePool
    private let queue = DispatchQueue(label: "optgate.audit-anchor")
    private let pending = Mutex<SignedAuditHead?>(nil)
    private let lastRefusal = Mutex<AuditAnchorRefusal?>(nil)
    private let refused: @Sendable (AuditAnchorRefusal) -> Void

    init(file: AuditAnchorFile, keys: DeviceKeys, database: DatabasePool, refused: @escaping @Sendable (AuditAnchorRefusal) -> Void) {
        self.file = file
        self.keys = keys
        self.database = database
        self.refused = refused
    }

    /// Anchors `head` soon, unless a newer head is anchored first.
    func submit(_ head: SignedAuditHead) {
        let schedule = pending.withLock { pending in
            defer { if (pending?.seq ?? -1) < head.seq { pending = head } }
            return pending == nil
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Anchors `head` now, after anything pending. - Parameters: as `AuditAnchorFile.advance`.
    func anchorNow(_ head: SignedAuditHead, create: Bool, force: Bool) {
        queue.sync {
            drain()
            perform(head, create: create, force: force)
        }
    }

    /// Returns once every head submitted so far is anchored (or refused).
    func flush() {
        queue.sync { drain() }
    }

    private func drain() {
        while let head = pending.withLock({ pending in defer { pending = nil }; return pending }) {
            perform(head, create: false, force: false)
        }
    }

    /// Never throws: the change the head records has committed whatever happens here.
    private func perform(_ head: SignedAuditHead, create: Bool, force: Bool) {
        let refusal: AuditAnchorRefusal?
        do {
            let outcome = try file.advance(to: head, key: keys.auditHead, create: create, force: force) { seq in
                try database.read { db in try AuditChain.hash(at: seq, in: db) }
            }
            if case .refused(let reason) = outcome { refusal = reason } else { refusal = nil }
        } catch {
            refusal = .unwritable(reason: "\(error)")
        }
        let changed = lastRefusal.withLock { last in
            defer { last = refusal }
            return last != refusal
        }
        if changed, let refusal { refused(refusal) }
    }
}
