import Crypto
import Foundation
import GRDB
import GateCore

/// The hash chain over `auditEntry`.
///
/// `payloadHash = SHA-256(canonical fields)`; `hash = HMAC-SHA256(auditKey, seq ‖ prevHash ‖ payloadHash)`.
/// Because the link is keyed with a device secret outside the database, someone with the `sqlite3`
/// tool can neither edit nor re-chain entries without `audit verify` naming the first broken one.
/// The end of the chain is guarded by the signed head (`SignedAuditHead`, `AuditReport`).
/// Redaction (retention purge, erasure) blanks an entry's fields but keeps its hashes; the redacting
/// entry records how many entries it blanked and a digest of their seqs, so redaction cannot hide
/// entries either.
enum AuditChain {
    static let genesis = Data(repeating: 0, count: 32)

    /// Appends `record` and re-signs the head record. - Returns: the new signed head.
    @discardableResult
    static func append(_ record: AuditRecord, in db: Database, key: SymmetricKey, headKey: SymmetricKey,
                       time: WallTime) throws -> SignedAuditHead {
        let previous = try previous(in: db, headKey: headKey)
        let seq = previous.seq + 1
        let prevHash = previous.hash
        let fields = Fields(record)
        let payloadHash = fields.payloadHash
        let hash = link(seq: seq, prevHash: prevHash, payloadHash: payloadHash, key: key)
        try db.execute(
            sql: """
                INSERT INTO auditEntry (seq, time, category, action, door, method, result, reason, residentId,
                                        operator, detail, payloadHash, prevHash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [seq, fields.time, fields.category, fields.action, fields.door, fields.method, fields.result,
                        fields.reason, fields.residentID, fields.operator, fields.detail, payloadHash, prevHash, hash]
        )
        let head = SignedAuditHead(seq: seq, hash: hash, time: time, key: headKey)
        try store(head, in: db)
        return head
    }

    static func store(_ head: SignedAuditHead, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO auditHead (id, seq, hash, time, mac) VALUES (1, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time, mac = excluded.mac
                """,
            arguments: [head.seq, head.hash, head.time.millisecondsSince1970, head.mac]
        )
    }

    /// The entry the next one chains to: the head record if it is authentic and not behind the table,
    /// else the last entry in the table. A head record that was deleted or edited does not stop the log;
    /// an authentic head ahead of the table (a cut tail) leaves the cut visible as a gap.
    static func previous(in db: Database, headKey: SymmetricKey) throws -> (seq: Int64, hash: Data) {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM auditEntry ORDER BY seq DESC LIMIT 1")
            .map { (seq: $0["seq"] as Int64, hash: $0["hash"] as Data) } ?? SignedAuditHead.empty
        if let head = try storedHead(in: db), head.isAuthentic(key: headKey), head.seq >= last.seq {
            return (head.seq, head.hash)
        }
        return last
    }

    /// The head record as stored, `nil` if there is none; a legacy record without MAC reads with an empty MAC.
    static func storedHead(in db: Database) throws -> SignedAuditHead? {
        try Row.fetchOne(db, sql: "SELECT seq, hash, time, mac FROM auditHead WHERE id = 1").map {
            SignedAuditHead(seq: $0["seq"], hash: $0["hash"], time: WallTime(millisecondsSince1970: $0["time"] ?? 0),
                            mac: $0["mac"] ?? Data())
        }
    }

    /// The chain hash of entry `seq`, `nil` if the table holds no such entry.
    static func hash(at seq: Int64, in db: Database) throws -> Data? {
        if seq == 0 { return genesis }
        return try Data.fetchOne(db, sql: "SELECT hash FROM auditEntry WHERE seq = ?", arguments: [seq])
    }

    /// The seq the next appended entry will get.
    static func nextSeq(in db: Database, headKey: SymmetricKey) throws -> Int64 {
        try previous(in: db, headKey: headKey).seq + 1
    }

    /// Blanks the entries `seqs`, attributing the redaction to the entry `redactor` that the caller
    /// appends in the same transaction. - Returns: the detail fields that entry must carry.
    static func redact(_ seqs: [Int64], by redactor: Int64, in db: Database) throws -> [String: String] {
        for seq in seqs {
            try db.execute(
                sql: """
                    UPDATE auditEntry SET time = NULL, category = NULL, action = NULL, door = NULL, method = NULL,
                        result = NULL, reason = NULL, residentId = NULL, operator = NULL, detail = NULL, redactedBy = ?
                    WHERE seq = ?
                    """,
                arguments: [redactor, seq]
            )
        }
        return ["redacted": String(seqs.count), "redactedDigest": digest(of: seqs)]
    }

    static func digest(of seqs: [Int64]) -> String {
        var hasher = SHA256()
        for seq in seqs.sorted() { withUnsafeBytes(of: seq.bigEndian) { hasher.update(data: Data($0)) } }
        return hasher.finalize().hex
    }

    static func link(seq: Int64, prevHash: Data, payloadHash: Data, key: SymmetricKey) -> Data {
        var mac = HMAC<SHA256>(key: key)
        withUnsafeBytes(of: seq.bigEndian) { mac.update(data: Data($0)) }
        mac.update(data: prevHash)
        mac.update(data: payloadHash)
        return Data(mac.finalize())
    }

    /// The first break in the chain itself (entries edited, deleted in the middle, re-linked, forged,
    /// blanked without account), or `nil`. The end of the log is checked by `AuditReport`.
    static func firstBreak(in db: Database, key: SymmetricKey) throws -> AuditFinding? {
        var expectedSeq: Int64 = 1
        var prevHash = genesis
        var redactions: [Int64: [Int64]] = [:]
        var redactors: [Int64: Fields] = [:]
        func broken(_ kind: AuditFinding.Kind, _ seq: Int64, _ message: String) -> AuditFinding {
            AuditFinding(kind: kind, seq: seq, message: message)
        }
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM auditEntry ORDER BY seq")
        while let row = try rows.next() {
            let seq: Int64 = row["seq"]
            if seq != expectedSeq {
                return AuditFinding(kind: .entriesMissing, seq: expectedSeq, lastSeq: seq - 1,
                                    message: seq - 1 == expectedSeq ? "entry \(expectedSeq) is missing"
                                        : "entries \(expectedSeq)–\(seq - 1) are missing")
            }
            let storedPrev: Data = row["prevHash"]
            let payloadHash: Data = row["payloadHash"]
            let hash: Data = row["hash"]
            if storedPrev != prevHash {
                return broken(.entryRelinked, seq, "entry \(seq) does not follow entry \(seq - 1) (entries deleted, inserted or reordered)")
            }
            if let redactor: Int64 = row["redactedBy"] {
                if Fields(row: row).hasAnyValue {
                    return broken(.redactionUnaccounted, seq, "entry \(seq) is marked redacted but still holds data")
                }
                redactions[redactor, default: []].append(seq)
            } else {
                let fields = Fields(row: row)
                if fields.payloadHash != payloadHash {
                    return broken(.entryModified, seq, "entry \(seq) was modified after it was written")
                }
                if fields.action.flatMap(AuditAction.init(rawValue:))?.redacts == true { redactors[seq] = fields }
            }
            if link(seq: seq, prevHash: storedPrev, payloadHash: payloadHash, key: key) != hash {
                return broken(.entryForged, seq, "entry \(seq) has a hash that this device did not write")
            }
            prevHash = hash
            expectedSeq += 1
        }
        for (redactor, seqs) in redactions.sorted(by: { $0.key < $1.key }) {
            let first = seqs.min() ?? redactor
            guard let fields = redactors[redactor], redactor > (seqs.max() ?? 0) else {
                return broken(.redactionUnaccounted, first, "entry \(first) was blanked without a recorded purge or erasure")
            }
            let detail = fields.detailValues
            if detail["redacted"] != String(seqs.count) || detail["redactedDigest"] != digest(of: seqs) {
                return broken(.redactionUnaccounted, first, "entry \(first) was blanked but entry \(redactor) does not account for it")
            }
        }
        for (redactor, fields) in redactors.sorted(by: { $0.key < $1.key }) where redactions[redactor] == nil {
            if fields.detailValues["redacted"] != "0" {
                return broken(.redactionUnaccounted, redactor, "entry \(redactor) records redactions that are not in the log")
            }
        }
        return nil
    }
}

/// The canonical form of an entry's fields, shared by writing and verification.
struct Fields {
    var time: Int64?
    var category: String?
    var action: String?
    var door: String?
    var method: String?
    var result: String?
    var reason: String?
    var residentID: String?
    var `operator`: String?
    var detail: String?

    init(_ record: AuditRecord) {
        time = record.time.millisecondsSince1970
        category = record.category.rawValue
        action = record.action.rawValue
        door = record.door
        method = record.method?.rawValue
        result = record.result?.rawValue
        reason = record.reason?.rawValue
        residentID = record.residentID
        self.operator = record.operator
        detail = record.detail
    }

    init(row: Row) {
        time = row["time"]
        category = row["category"]
        action = row["action"]
        door = row["door"]
        method = row["method"]
        result = row["result"]
        reason = row["reason"]
        residentID = row["residentId"]
        self.operator = row["operator"]
        detail = row["detail"]
    }

    var hasAnyValue: Bool {
        time != nil || [category, action, door, method, result, reason, residentID, self.operator, detail]
            .contains { $0 != nil }
    }

    /// SHA-256 over length-prefixed fields in a fixed order; `nil` is distinct from the empty string.
    var payloadHash: Data {
        var hasher = SHA256()
        func add(_ value: String?) {
            guard let value else {
                withUnsafeBytes(of: UInt32.max.bigEndian) { hasher.update(data: Data($0)) }
                return
            }
            let bytes = Array(value.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { hasher.update(data: Data($0)) }
            hasher.update(data: bytes)
        }
        add(time.map(String.init))
        for value in [category, action, door, method, result, reason, residentID, self.operator, detail] { add(value) }
        return Data(hasher.finalize())
    }

    var detailValues: [String: String] {
        guard let detail, let data = detail.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: String]
        else { return [:] }
        return object
    }
}
