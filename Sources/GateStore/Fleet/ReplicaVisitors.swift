import Crypto
public import Foundation
import GRDB
import Synchronization
public import GateCore

// Visitor passes issued at the fleet hub (docs/fleet.md#visitor-passes): signed and hashed with keys derived
// from the site secret, so every gate of the site verifies the same QR and finds the same keypad code; copied
// into the gate's own `visitorPass` table by the replica, where the gate enforces doors, validity and uses
// exactly as for a pass issued at the box.

extension SiteKeys {
    /// The keyed lookup tag of a visitor's keypad code issued at the hub (the site's `visitorCodeTag`).
    public func visitorCodeTag(of code: PIN) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Array("visitor:\(code.digits)".utf8), using: derive("visitor-code v1")))
    }

    /// The signed QR text of a pass issued at the hub (`VisitorQR`, under the site's visitor key).
    public func visitorQRText(passID: String, expires: WallTime) -> String {
        VisitorQR(passID: passID, expires: expires).text(key: derive("visitor-qr v1"))
    }

    /// Parses and verifies a QR payload signed by the hub for this site.
    func verifyVisitorQR(_ text: String) -> Result<VisitorQR, VisitorQR.Problem> {
        VisitorQR.verify(text, key: derive("visitor-qr v1"))
    }
}

extension IssuedVisitorPass {
    /// A pass just issued by another backend (the hub): the code and QR text exist only in this value.
    public init(pass: VisitorPass, code: String, qrText: String) {
        self.init(pass: pass, code: code, qr: qrText)
    }
}

extension VisitorPassID {
    /// A fresh random pass id (`v` and 12 hex digits), for the hub as for the box.
    public static func random() -> String { make() }
}

extension VisitorCode {
    /// A fresh uniformly random keypad code.
    public static func random() -> String { make() }
}

/// A pass as the hub has it, with the uses every gate of the site has reported (`usesLeft`).
public struct ReplicaVisitorPass: Sendable, Hashable {
    public var pass: VisitorPass
    /// The site-keyed tag of its keypad code (`SiteKeys.visitorCodeTag`).
    public var codeTag: Data

    public init(pass: VisitorPass, codeTag: Data) {
        self.pass = pass
        self.codeTag = codeTag
    }
}

/// One use of a visitor pass at this gate (a granted visitor decision), as pushed to the hub.
public struct LocalVisitorUse: Sendable, Hashable {
    /// The audit sequence of the granted decision.
    public var seq: Int64
    public var time: WallTime
    public var passID: String

    public init(seq: Int64, time: WallTime, passID: String) {
        self.seq = seq
        self.time = time
        self.passID = passID
    }
}

extension GateDatabase {
    /// Writes the hub's passes into the local table inside the replica's transaction. A pass's uses only go
    /// down and a revocation stays: the local count is the smaller of this gate's and the hub's (which counts
    /// every gate's reported uses), so a use spent here but not yet pushed is never given back.
    func applyVisitorPasses(_ passes: [ReplicaVisitorPass], in db: Database) throws {
        for replica in passes {
            let pass = replica.pass
            try db.execute(
                sql: """
                    INSERT INTO visitorPass (id, name, codeTag, validFrom, validUntil, usesTotal, usesLeft, revokedAt, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET usesLeft = min(visitorPass.usesLeft, excluded.usesLeft),
                        revokedAt = coalesce(visitorPass.revokedAt, excluded.revokedAt)
                    """,
                arguments: [pass.id, pass.name, replica.codeTag, pass.validFrom.millisecondsSince1970, pass.validUntil.millisecondsSince1970,
                            pass.usesTotal, max(0, min(pass.usesLeft, pass.usesTotal)), pass.revokedAt?.millisecondsSince1970,
                            now().millisecondsSince1970])
            for door in pass.doors {
                try db.execute(sql: "INSERT OR IGNORE INTO visitorPassDoor (passId, door) VALUES (?, ?)", arguments: [pass.id, door])
            }
        }
    }

    /// Granted visitor decisions after local sequence `seq`, oldest first: the uses the gate reports to the hub.
    public func localVisitorUses(after seq: Int64, limit: Int = 500) throws -> [LocalVisitorUse] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, time, json_extract(detail, '$.pass') AS pass FROM auditEntry
                WHERE seq > ? AND category = 'access' AND method = 'visitor' AND result = 'granted' AND redactedBy IS NULL
                  AND json_extract(detail, '$.pass') IS NOT NULL
                ORDER BY seq LIMIT ?
                """, arguments: [seq, limit]).map { row in
                    LocalVisitorUse(seq: row["seq"], time: WallTime(millisecondsSince1970: row["time"]), passID: row["pass"])
                }
        }
    }

    /// The site-keyed tag of a visitor code, when this store replicates a fleet site.
    func siteVisitorCodeTag(of code: PIN) -> Data? {
        siteKeys.withLock { $0 }?.visitorCodeTag(of: code)
    }

    /// Verifies a QR payload under the site's key, when this store replicates a fleet site.
    func verifySiteVisitorQR(_ text: String) -> Result<VisitorQR, VisitorQR.Problem>? {
        siteKeys.withLock { $0 }?.verifyVisitorQR(text)
    }
}
