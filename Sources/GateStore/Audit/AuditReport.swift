import Foundation
import GRDB
public import GateCore

/// One thing `audit verify` found wrong, in words and as fields (docs/cli.md).
public struct AuditFinding: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// An entry's fields were changed after it was written.
        case entryModified
        /// Entries are missing from the middle of the log.
        case entriesMissing
        /// An entry does not chain to the one before it (deleted, inserted or reordered entries).
        case entryRelinked
        /// An entry's hash was not made with this device's key.
        case entryForged
        /// Entries were blanked without a purge or erasure entry that accounts for them.
        case redactionUnaccounted
        /// Entries are missing from the end of the log.
        case tailTruncated
        /// Every entry is gone.
        case logWiped
        /// The database is a consistent but older copy than the anchor or witness remembers, or has
        /// grown again from one.
        case databaseRolledBack
        /// The head record is gone while entries remain.
        case headMissing
        /// The head record's MAC does not match: it was edited or not written by this device.
        case headForged
        /// The head record does not name the last entry of the log.
        case headMismatch
        /// `audit.anchor` is missing although the log has entries.
        case anchorMissing
        /// `audit.anchor` cannot be read or its MAC does not match.
        case anchorForged
        /// The witness head given to `audit verify --witness` was not signed by this device.
        case witnessForged
    }

    public var kind: Kind
    /// The first entry concerned.
    public var seq: Int64
    /// The last entry concerned, for a range.
    public var lastSeq: Int64?
    /// When the head that reveals the finding (the anchor's, the witness's, the head record's) was written.
    public var since: WallTime?
    /// The sentence `audit verify` prints.
    public var message: String

    public init(kind: Kind, seq: Int64, lastSeq: Int64? = nil, since: WallTime? = nil, message: String) {
        self.kind = kind
        self.seq = seq
        self.lastSeq = lastSeq
        self.since = since
        self.message = message
    }
}

/// The outcome of checking the audit log against its chain, its head record, the anchor file and,
/// optionally, a head kept by an outside witness.
public struct AuditReport: Sendable, Hashable {
    /// The highest seq in the table.
    public var entries: Int64
    /// The head record as stored, if any (authentic or not).
    public var head: SignedAuditHead?
    /// The anchor file's head, when it is present and authentic.
    public var anchor: SignedAuditHead?
    public var findings: [AuditFinding]

    public var isIntact: Bool { findings.isEmpty }
}

extension GateDatabase {
    /// `audit.anchor` in the state directory.
    public var auditAnchorPath: String { anchorFile.path }

    /// The current signed head, as `optgate audit head` prints it for an outside witness.
    public func auditHead() throws -> SignedAuditHead {
        anchorWriter.flush()
        return try read { db in
            if let head = try AuditChain.storedHead(in: db), head.isAuthentic(key: keys.auditHead) { return head }
            let last = try AuditChain.previous(in: db, headKey: keys.auditHead)
            let time = try Int64.fetchOne(db, sql: "SELECT time FROM auditEntry WHERE seq = ?", arguments: [last.seq])
            return SignedAuditHead(seq: last.seq, hash: last.hash, time: time.map(WallTime.init(millisecondsSince1970:)) ?? now(),
                                   key: keys.auditHead)
        }
    }

    /// Checks the chain, the head record, the anchor file and `witness`, naming everything found.
    public func auditReport(witness: AuditWitness? = nil) throws -> AuditReport {
        anchorWriter.flush()
        let anchorState = anchorFile.read(key: keys.auditHead)
        return try read { db in
            var findings: [AuditFinding] = []
            if let broken = try AuditChain.firstBreak(in: db, key: keys.audit) { findings.append(broken) }
            let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM auditEntry ORDER BY seq DESC LIMIT 1")
                .map { (seq: $0["seq"] as Int64, hash: $0["hash"] as Data) } ?? SignedAuditHead.empty

            // The head record, in the same database.
            let stored = try AuditChain.storedHead(in: db)
            var head: SignedAuditHead?
            if let stored {
                if stored.isAuthentic(key: keys.auditHead) {
                    head = stored
                } else {
                    findings.append(AuditFinding(kind: .headForged, seq: stored.seq, message: """
                        the audit head record (entry \(stored.seq)) was altered or not written by this device: its MAC does not match
                        """))
                }
            } else if last.seq > 0 {
                findings.append(AuditFinding(kind: .headMissing, seq: last.seq, message: "the audit head record is missing (deleted)"))
            }
            if let head, head.seq < last.seq {
                findings.append(AuditFinding(kind: .headMismatch, seq: head.seq + 1, lastSeq: last.seq, message: """
                    entries \(head.seq + 1)–\(last.seq) come after the entry the audit head record names (\(head.seq))
                    """))
            } else if let head, head.seq == last.seq, head.hash != last.hash {
                findings.append(AuditFinding(kind: .headMismatch, seq: head.seq, message: """
                    the last entry \(head.seq) is not the one the audit head record names
                    """))
            }
            // The database holds a consistent log up to `last` if its head record is authentic and names it.
            let consistent = head.map { $0.seq == last.seq && $0.hash == last.hash } ?? false

            // Heads remembered outside the database: the anchor file and a witness.
            var anchor: SignedAuditHead?
            switch anchorState {
            case .missing:
                if last.seq > 0 || head != nil {
                    findings.append(AuditFinding(kind: .anchorMissing, seq: last.seq, message: """
                        the anchor file \(anchorFile.path) is missing: it was deleted (or the database was copied without it)
                        """))
                }
            case .notAuthentic(let reason):
                findings.append(AuditFinding(kind: .anchorForged, seq: last.seq, message: """
                    the anchor file \(anchorFile.path) was not written by this device: \(reason)
                    """))
            case .valid(let anchored):
                anchor = anchored
            }
            typealias Reference = (seq: Int64, time: WallTime?, matches: (Data) -> Bool, name: String)
            var outside: [Reference] = []
            if let anchor { outside.append((anchor.seq, anchor.time, { $0 == anchor.hash }, "the last anchor")) }
            if let witness {
                if let signed = witness.signed, !signed.isAuthentic(key: keys.auditHead) {
                    findings.append(AuditFinding(kind: .witnessForged, seq: witness.seq, message: """
                        the witness head (entry \(witness.seq)) was not signed by this device: its MAC does not match
                        """))
                } else {
                    outside.append((witness.seq, witness.time, witness.matches, "the witnessed head"))
                }
            }

            // The end of the log: the furthest head that the table no longer reaches.
            var references = outside
            if let head { references.append((head.seq, head.time, { $0 == head.hash }, "the head record written")) }
            if let beyond = references.filter({ $0.seq > last.seq }).max(by: { $0.seq < $1.seq }) {
                let at = beyond.time.map { " at \($0.iso8601)" } ?? ""
                let range = beyond.seq == last.seq + 1 ? "entry \(beyond.seq) is" : "entries \(last.seq + 1)–\(beyond.seq) are"
                if last.seq == 0 {
                    findings.append(AuditFinding(kind: .logWiped, seq: 1, lastSeq: beyond.seq, since: beyond.time, message: """
                        the audit log was wiped: it is empty but \(beyond.name)\(at) records \(beyond.seq) entries
                        """))
                } else if consistent {
                    findings.append(AuditFinding(kind: .databaseRolledBack, seq: last.seq + 1, lastSeq: beyond.seq, since: beyond.time, message: """
                        the database was rolled back to an older copy: it ends at entry \(last.seq) but \(beyond.name)\(at) \
                        records entry \(beyond.seq) (\(range) missing)
                        """))
                } else {
                    findings.append(AuditFinding(kind: .tailTruncated, seq: last.seq + 1, lastSeq: beyond.seq, since: beyond.time, message: """
                        \(range) missing from the end of the log since \(beyond.name)\(at)
                        """))
                }
            }
            // Heads the table does reach must still be there as they were written.
            for reference in outside where reference.seq <= last.seq && reference.seq > 0 {
                guard let held = try AuditChain.hash(at: reference.seq, in: db), reference.matches(held) else {
                    let at = reference.time.map { " at \($0.iso8601)" } ?? ""
                    findings.append(AuditFinding(kind: .databaseRolledBack, seq: reference.seq, since: reference.time, message: """
                        entry \(reference.seq) is not the one \(reference.name)\(at) records: the database was rolled back to an \
                        older copy and has grown since, or the log was rewritten
                        """))
                    continue
                }
            }
            return AuditReport(entries: last.seq, head: stored, anchor: anchor, findings: findings)
        }
    }

    /// Forces the anchor to the current head after an operator has looked at a finding (a restored
    /// backup, a new box), recording that in the log first. Refuses while the chain itself is broken.
    /// - Returns: the anchor that was replaced (if it was readable) and the new one.
    @discardableResult
    public func reanchorAudit(reason: String, operator op: String) throws -> (previous: SignedAuditHead?, current: SignedAuditHead) {
        let report = try auditReport()
        if let broken = report.findings.first(where: { [.entryModified, .entriesMissing, .entryRelinked, .entryForged,
                                                        .redactionUnaccounted].contains($0.kind) }) {
            throw GateStoreError.auditBroken(broken.message)
        }
        var detail = ["reason": reason, "findings": report.findings.map(\.kind.rawValue).joined(separator: ",")]
        if let previous = report.anchor {
            detail["previousAnchorSeq"] = String(previous.seq)
            detail["previousAnchorHash"] = previous.shortHash
        }
        let head = try write(anchoring: .force) { db in
            try audit(AuditRecord(time: now(), category: .admin, action: .auditReanchor, operator: op, detail: detail), in: db)
        }
        return (report.anchor, head)
    }
}
