import Foundation
import GRDB

/// The `compliance-v1` migration (docs/compliance.md): minors and their guardians' consent (R6), notice
/// versions added on the device (R5), the filing-threshold alarms already raised (R14) and the record of
/// every generated impact assessment (R13).
///
/// The guardian rule lives in triggers as well as in Swift, like the consent guard on templates: no path
/// (CLI, kiosk, a script with the key) can record a minor's face consent, or store a minor's face, without it.
enum ComplianceSchema {
    static let guardianRequired = "a resident under 14 needs a guardian's consent: give --guardian-name, --guardian-relation and --guardian-method"

    private static var sqlGuardianRequired: String { guardianRequired.replacingOccurrences(of: "'", with: "''") }

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE resident ADD COLUMN under14 INTEGER NOT NULL DEFAULT 0 CHECK (under14 IN (0, 1));
            ALTER TABLE consent ADD COLUMN guardianName TEXT;
            ALTER TABLE consent ADD COLUMN guardianRelation TEXT;
            ALTER TABLE consent ADD COLUMN guardianMethod TEXT;

            CREATE TRIGGER consent_minor_needs_guardian BEFORE INSERT ON consent
            WHEN NEW.action = 'grant' AND (SELECT under14 FROM resident WHERE id = NEW.residentId) = 1
              AND (coalesce(NEW.guardianName, '') = '' OR coalesce(NEW.guardianRelation, '') = '' OR coalesce(NEW.guardianMethod, '') = '')
            BEGIN SELECT RAISE(ABORT, '\(sqlGuardianRequired)'); END;

            CREATE TRIGGER faceTemplate_minor_needs_guardian BEFORE INSERT ON faceTemplate
            WHEN (SELECT under14 FROM resident WHERE id = NEW.residentId) = 1
              AND coalesce((SELECT guardianName FROM consent WHERE id = NEW.consentId), '') = ''
            BEGIN SELECT RAISE(ABORT, '\(sqlGuardianRequired)'); END;

            -- Notice versions added with `optgate notice add`; the bundled v1 stays in the package. Never
            -- changed or deleted: a consent row pins (version, sha256) and must stay readable word for word.
            CREATE TABLE notice (
                version TEXT NOT NULL,
                language TEXT NOT NULL,
                text TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                addedAt INTEGER NOT NULL,
                operator TEXT NOT NULL,
                PRIMARY KEY (version, language)
            ) STRICT;
            CREATE TRIGGER notice_append_only_update BEFORE UPDATE ON notice
            BEGIN SELECT RAISE(ABORT, 'notice versions are never changed: add a new version'); END;
            CREATE TRIGGER notice_append_only_delete BEFORE DELETE ON notice
            BEGIN SELECT RAISE(ABORT, 'notice versions are never deleted'); END;

            -- One row per filing threshold crossed (warnings and the filing threshold itself), so the alarm is
            -- raised once, across restarts; the filing row's time starts the 30-working-day deadline.
            CREATE TABLE filingAlarm (
                threshold INTEGER PRIMARY KEY NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('warning', 'filing')),
                time INTEGER NOT NULL,
                people INTEGER NOT NULL
            ) STRICT;

            -- Every generated impact assessment (and compliance report): its hash and time, kept at least
            -- three years (R13). Append-only: no retention setting purges it.
            CREATE TABLE assessment (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time INTEGER NOT NULL,
                kind TEXT NOT NULL,
                language TEXT NOT NULL,
                format TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                operator TEXT NOT NULL
            ) STRICT;
            CREATE TRIGGER assessment_append_only_update BEFORE UPDATE ON assessment
            BEGIN SELECT RAISE(ABORT, 'assessment records are append-only'); END;
            CREATE TRIGGER assessment_append_only_delete BEFORE DELETE ON assessment
            BEGIN SELECT RAISE(ABORT, 'assessment records are kept at least three years and never deleted'); END;
            """)
    }
}
