import Crypto
import Foundation
import GRDB
import GateCore

/// The hash chain over `auditEntry`.
///
/// `payloadHash = SHA-256(canonical fields)`; `hash = HMAC-SHA256(auditKey, seq ‖ prevHash ‖ payloadHash)`.
/// Because the link is keyed with a device secret outside the database, someone with the `sqlite3`
/// tool can neither edit nor re-chain entries without `audit verify` naming the first broken one.
/// Redaction (retention purge, erasure) blanks an entry's fields but keeps its hashes; the redacting
/// entry records how many entries it blanked and a digest of their seqs, so redaction cannot hide
/// entries either.
enum AuditChain {
    static let genesis = Data(repeating: 0, count: 32)

    @discardableResult
    static func append(_ record: AuditRecord, in db: Database, key: SymmetricKey) throws -> Int64 {
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM auditHead WHERE id = 1")
        let seq: Int64 = (head?["seq"] ?? 0) + 1
        let prevHash: Data = head?["hash"] ?? genesis
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
        try db.execute(
            sql: "INSERT INTO auditHead (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            arguments: [seq, hash]
        )
        return seq
    }

    /// The seq the next appended entry will get.
    static func nextSeq(in db: Database) throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT seq FROM auditHead WHERE id = 1") ?? 0) + 1
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

    /// The result of `verify`.
    enum Verdict: Equatable {
        case intact(entries: Int)
        case broken(seq: Int64, problem: String)
    }

    static func verify(in db: Database, key: SymmetricKey) throws -> Verdict {
        var expectedSeq: Int64 = 1
        var prevHash = genesis
        var redactions: [Int64: [Int64]] = [:]
        var redactors: [Int64: Fields] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM auditEntry ORDER BY seq")
        while let row = try rows.next() {
            let seq: Int64 = row["seq"]
            if seq != expectedSeq {
                return .broken(seq: expectedSeq, problem: "entry \(expectedSeq) is missing")
            }
            let storedPrev: Data = row["prevHash"]
            let payloadHash: Data = row["payloadHash"]
            let hash: Data = row["hash"]
            if storedPrev != prevHash {
                return .broken(seq: seq, problem: "entry \(seq) does not follow entry \(seq - 1) (entries deleted, inserted or reordered)")
            }
            if let redactor: Int64 = row["redactedBy"] {
                if Fields(row: row).hasAnyValue {
                    return .broken(seq: seq, problem: "entry \(seq) is marked redacted but still holds data")
                }
                redactions[redactor, default: []].append(seq)
            } else {
                let fields = Fields(row: row)
                if fields.payloadHash != payloadHash {
                    return .broken(seq: seq, problem: "entry \(seq) was modified after it was written")
                }
                if fields.action == "resident.erase" || fields.action == "events.purge" { redactors[seq] = fields }
            }
            if link(seq: seq, prevHash: storedPrev, payloadHash: payloadHash, key: key) != hash {
                return .broken(seq: seq, problem: "entry \(seq) has a hash that this device did not write")
            }
            prevHash = hash
            expectedSeq += 1
        }
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM auditHead WHERE id = 1")
        let lastSeq = expectedSeq - 1
        if let head {
            let headSeq: Int64 = head["seq"]
            if headSeq != lastSeq || (head["hash"] as Data) != prevHash {
                return .broken(seq: lastSeq + 1, problem: "entries \(lastSeq + 1) to \(headSeq) are missing from the end of the log")
            }
        } else if lastSeq > 0 {
            return .broken(seq: lastSeq, problem: "the audit head record is missing")
        }
        for (redactor, seqs) in redactions.sorted(by: { $0.key < $1.key }) {
            let first = seqs.min() ?? redactor
            guard let fields = redactors[redactor], redactor > (seqs.max() ?? 0) else {
                return .broken(seq: first, problem: "entry \(first) was blanked without a recorded purge or erasure")
            }
            let detail = fields.detailValues
            if detail["redacted"] != String(seqs.count) || detail["redactedDigest"] != digest(of: seqs) {
                return .broken(seq: first, problem: "entry \(first) was blanked but entry \(redactor) does not account for it")
            }
        }
        for (redactor, fields) in redactors.sorted(by: { $0.key < $1.key }) where redactions[redactor] == nil {
            if fields.detailValues["redacted"] != "0" {
                return .broken(seq: redactor, problem: "entry \(redactor) records redactions that are not in the log")
            }
        }
        return .intact(entries: Int(lastSeq))
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
        action = record.action
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
