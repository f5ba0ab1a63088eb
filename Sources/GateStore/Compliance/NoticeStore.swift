import Foundation
import GRDB
public import GateCore

/// A notice version as `notice list` shows it.
public struct NoticeVersionInfo: Sendable, Hashable, Codable {
    public var version: String
    public var language: String
    public var sha256: String
    /// `bundled` (shipped with optgate) or `added` (`optgate notice add`).
    public var source: String
    public var addedAt: WallTime?
    /// The newest version in its language: what residents read now, and what new consents pin.
    public var active: Bool
}

/// Orders notice versions as numbers part by part (`2` < `10`, `1.1` < `2`), falling back to text.
public func noticeVersionPrecedes(_ lhs: String, _ rhs: String) -> Bool {
    let left = lhs.split(separator: "."), right = rhs.split(separator: ".")
    for (a, b) in zip(left, right) where a != b {
        if let x = Int(a), let y = Int(b) { return x < y }
        return a < b
    }
    return left.count < right.count
}

extension GateDatabase {
    /// Adds a notice version (R5): stored with its SHA-256; versions are never changed or deleted, and the
    /// bundled ones stay. - Throws: when this version and language exist already (bundled or added).
    @discardableResult
    public func addNotice(_ notice: Notice, operator op: String) throws -> NoticeVersionInfo {
        guard !notice.version.isEmpty, notice.version.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw ComplianceError("A notice version is letters, digits, dots and dashes, e.g. 2 or 2.1.")
        }
        guard !notice.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ComplianceError("The notice file is empty.")
        }
        if NoticeLibrary.all().contains(where: { $0.version == notice.version && $0.language == notice.language }) {
            throw ComplianceError("Notice v\(notice.version) (\(notice.language)) is shipped with optgate; add a new version instead.")
        }
        let time = now()
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM notice WHERE version = ? AND language = ?)",
                                 arguments: [notice.version, notice.language]) == true {
                throw ComplianceError("Notice v\(notice.version) (\(notice.language)) exists already; versions are never changed: add a new version.")
            }
            try db.execute(sql: "INSERT INTO notice (version, language, text, sha256, addedAt, operator) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [notice.version, notice.language, notice.text, notice.sha256, time.millisecondsSince1970, op])
            try audit(AuditRecord(time: time, category: .admin, action: .noticeAdd, operator: op,
                                  detail: ["version": notice.version, "language": notice.language, "sha256": notice.sha256]), in: db)
        }
        return NoticeVersionInfo(version: notice.version, language: notice.language, sha256: notice.sha256, source: "added",
                                 addedAt: time, active: try activeNotice(language: notice.language)?.version == notice.version)
    }

    public typealias StoredNotice = (notice: Notice, source: String, addedAt: WallTime?)

    /// Every notice, bundled and added, oldest version first.
    public func notices() throws -> [StoredNotice] {
        let added: [StoredNotice] = try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM notice").map { row -> StoredNotice in
                (notice: Notice(version: row["version"], language: row["language"], text: row["text"]), source: "added",
                 addedAt: WallTime(millisecondsSince1970: row["addedAt"]))
            }
        }
        let bundled: [StoredNotice] = NoticeLibrary.all().map { (notice: $0, source: "bundled", addedAt: nil) }
        return (bundled + added).sorted {
            $0.0.version == $1.0.version ? $0.0.language < $1.0.language : noticeVersionPrecedes($0.0.version, $1.0.version)
        }
    }

    public func noticeVersions() throws -> [NoticeVersionInfo] {
        let all = try notices()
        return all.map { entry in
            let newest = all.filter { $0.notice.language == entry.notice.language }.last?.notice.version
            return NoticeVersionInfo(version: entry.notice.version, language: entry.notice.language, sha256: entry.notice.sha256,
                                     source: entry.source, addedAt: entry.addedAt, active: newest == entry.notice.version)
        }
    }

    /// A notice version, bundled or added. - Throws: `GateStoreError.unknownNoticeVersion`.
    public func notice(version: String, language: String) throws -> Notice {
        let all = try notices()
        guard let found = all.first(where: { $0.notice.version == version && $0.notice.language == language }) else {
            throw GateStoreError.unknownNoticeVersion("\(version) (\(language))",
                                                      available: Array(Set(all.map(\.notice.version))).sorted(by: noticeVersionPrecedes))
        }
        return found.notice
    }

    /// The newest version in `language`: what new consents pin.
    public func activeNotice(language: String) throws -> Notice? {
        try notices().last { $0.notice.language == language }?.notice
    }
}
