import GRDB

/// The schema. Invariants live here, not only in Swift: foreign keys with cascades, append-only
/// triggers on the consent ledger and the audit log, and the consent guard on face templates.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE resident (
                    id TEXT PRIMARY KEY NOT NULL,
                    displayName TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    validUntil INTEGER,
                    createdAt INTEGER NOT NULL
                ) STRICT;

                CREATE TABLE card (
                    id INTEGER PRIMARY KEY,
                    residentId TEXT NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    uidTag BLOB NOT NULL UNIQUE,
                    uidLast4 TEXT NOT NULL,
                    createdAt INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX card_resident ON card(residentId);

                CREATE TABLE pin (
                    residentId TEXT PRIMARY KEY NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    lookupTag BLOB NOT NULL UNIQUE,
                    hash TEXT NOT NULL,
                    createdAt INTEGER NOT NULL
                ) STRICT;

                -- The consent ledger: append-only; a withdrawal is a new row.
                CREATE TABLE consent (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    residentId TEXT NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    action TEXT NOT NULL CHECK (action IN ('grant', 'withdraw')),
                    time INTEGER NOT NULL,
                    noticeVersion TEXT NOT NULL,
                    noticeSHA256 TEXT NOT NULL,
                    language TEXT NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('kiosk', 'paper', 'console')),
                    operator TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    device TEXT NOT NULL
                ) STRICT;
                CREATE INDEX consent_resident ON consent(residentId, id);

                -- Rows only exist inside the transaction that erases a resident: they license the
                -- cascade to delete that resident's consent rows, which are otherwise immutable.
                CREATE TABLE pendingErasure (residentId TEXT PRIMARY KEY NOT NULL) STRICT;

                CREATE TRIGGER consent_append_only_update BEFORE UPDATE ON consent
                BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
                CREATE TRIGGER consent_append_only_delete BEFORE DELETE ON consent
                WHEN NOT EXISTS (SELECT 1 FROM pendingErasure WHERE residentId = OLD.residentId)
                BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;

                -- Biometric data apart from identity data (R11): joined by the random resident id only.
                CREATE TABLE faceTemplate (
                    id TEXT PRIMARY KEY NOT NULL,
                    residentId TEXT NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    consentId INTEGER NOT NULL REFERENCES consent(id) ON DELETE CASCADE,
                    embedder TEXT NOT NULL,
                    dimension INTEGER NOT NULL,
                    sealed BLOB NOT NULL,
                    createdAt INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX faceTemplate_resident ON faceTemplate(residentId);
                CREATE INDEX faceTemplate_consent ON faceTemplate(consentId);

                CREATE TRIGGER faceTemplate_requires_consent BEFORE INSERT ON faceTemplate
                WHEN NOT EXISTS (
                    SELECT 1 FROM consent
                    WHERE id = NEW.consentId AND residentId = NEW.residentId AND action = 'grant'
                      AND id = (SELECT max(id) FROM consent WHERE residentId = NEW.residentId))
                BEGIN SELECT RAISE(ABORT, 'no active face-recognition consent for this resident'); END;

                -- The audit log: hash-chained, append-only except for redaction (retention purge,
                -- erasure), which blanks the payload but keeps seq, payloadHash, prevHash and hash.
                CREATE TABLE auditEntry (
                    seq INTEGER PRIMARY KEY NOT NULL,
                    time INTEGER,
                    category TEXT,
                    action TEXT,
                    door TEXT,
                    method TEXT,
                    result TEXT,
                    reason TEXT,
                    residentId TEXT,
                    operator TEXT,
                    detail TEXT,
                    payloadHash BLOB NOT NULL,
                    prevHash BLOB NOT NULL,
                    hash BLOB NOT NULL,
                    redactedBy INTEGER
                ) STRICT;
                CREATE INDEX auditEntry_resident ON auditEntry(residentId) WHERE residentId IS NOT NULL;
                CREATE INDEX auditEntry_time ON auditEntry(category, time) WHERE redactedBy IS NULL;

                CREATE TRIGGER auditEntry_no_delete BEFORE DELETE ON auditEntry
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER auditEntry_only_redaction BEFORE UPDATE ON auditEntry
                WHEN NOT (
                    OLD.redactedBy IS NULL AND NEW.redactedBy > OLD.seq AND NEW.seq = OLD.seq
                    AND NEW.payloadHash = OLD.payloadHash AND NEW.prevHash = OLD.prevHash AND NEW.hash = OLD.hash
                    AND NEW.time IS NULL AND NEW.category IS NULL AND NEW.action IS NULL AND NEW.door IS NULL
                    AND NEW.method IS NULL AND NEW.result IS NULL AND NEW.reason IS NULL
                    AND NEW.residentId IS NULL AND NEW.operator IS NULL AND NEW.detail IS NULL)
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

                -- The newest entry, so that a truncated tail is detected.
                CREATE TABLE auditHead (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash BLOB NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v2-face-index-version") { db in
            // The recogniser polls this counter to rebuild its in-memory index within a second of any
            // enrolment, deletion, withdrawal or erasure, whoever made the change (daemon or CLI).
            try db.execute(sql: """
                CREATE TABLE faceIndexVersion (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT;
                INSERT INTO faceIndexVersion (id, version) VALUES (1, 0);
                CREATE TRIGGER faceTemplate_inserted AFTER INSERT ON faceTemplate
                BEGIN UPDATE faceIndexVersion SET version = version + 1 WHERE id = 1; END;
                CREATE TRIGGER faceTemplate_deleted AFTER DELETE ON faceTemplate
                BEGIN UPDATE faceIndexVersion SET version = version + 1 WHERE id = 1; END;
                CREATE TRIGGER consent_appended AFTER INSERT ON consent
                BEGIN UPDATE faceIndexVersion SET version = version + 1 WHERE id = 1; END;
                """)
        }
        migrator.registerMigration("pin-guess-limits") { db in
            // PINs need no longer be unique (unit + PIN mode checks one household; PIN-only mode denies a
            // PIN several residents share as ambiguous), and unit + PIN mode keeps no lookup tag at all.
            // Wrong-PIN counters per keypad and per door survive restarts and watchdog kills.
            try db.execute(sql: """
                CREATE TABLE pinNew (
                    residentId TEXT PRIMARY KEY NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                    lookupTag BLOB,
                    hash TEXT NOT NULL,
                    createdAt INTEGER NOT NULL
                ) STRICT;
                INSERT INTO pinNew (residentId, lookupTag, hash, createdAt) SELECT residentId, lookupTag, hash, createdAt FROM pin;
                DROP TABLE pin;
                ALTER TABLE pinNew RENAME TO pin;
                CREATE INDEX pin_lookup ON pin(lookupTag);

                CREATE TABLE pinGuessCounter (
                    scope TEXT PRIMARY KEY NOT NULL,
                    state TEXT NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration(auditAnchor) { db in
            // The head record is signed with the device's head key (`SignedAuditHead`); the store signs the
            // existing head and writes the first `audit.anchor` right after this migration runs.
            try db.execute(sql: """
                ALTER TABLE auditHead ADD COLUMN time INTEGER;
                ALTER TABLE auditHead ADD COLUMN mac BLOB;
                """)
        }
        registerMachine(&migrator)
        migrator.registerMigration("visitor-v1") { db in
            // Visitor passes (docs/visitors.md): the keypad code only as a keyed tag, uses counted down by one
            // guarded UPDATE so two gates cannot both spend the last use.
            try VisitorPassSchema.create(in: db)
        }
        migrator.registerMigration("rules-v1") { db in try RulesSchema.create(db) }
        migrator.registerMigration("compliance-v1") { db in try ComplianceSchema.create(db) }
        migrator.registerMigration("console-v1") { db in try ConsoleSchema.create(in: db) }
        migrator.registerMigration("fleet-v1") { db in try FleetSchema.create(db) }
        migrator.registerMigration("fleet-v2-fleethub") { db in try FleetSchema.createReceiptOutbox(db) }
        return migrator
    }

    /// The migration that brought the signed head and the anchor file.
    static let auditAnchor = "v3-audit-anchor"
}
