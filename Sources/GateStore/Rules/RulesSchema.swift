import GRDB

/// The `rules-v1` migration: time profiles, calendar days, access groups and their doors, group
/// membership, passage schedules and `resident.validFrom`. Every table that feeds `AccessRules` bumps
/// `rulesVersion` from a trigger, so the daemon reads one row before a decision and reloads the rules
/// only when someone (daemon or CLI) changed them.
enum RulesSchema {
    static let fed = ["timeProfile", "calendarDay", "accessGroup", "accessGroupDoor", "doorPassage"]

    static func create(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE resident ADD COLUMN validFrom INTEGER;

            CREATE TABLE timeProfile (
                name TEXT PRIMARY KEY NOT NULL,
                week TEXT NOT NULL,
                holiday TEXT,
                validFrom TEXT,
                validUntil TEXT,
                createdAt INTEGER NOT NULL
            ) STRICT;

            CREATE TABLE calendarDay (
                calendar TEXT NOT NULL,
                day TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
                summary TEXT NOT NULL,
                PRIMARY KEY (calendar, day)
            ) STRICT;

            CREATE TABLE accessGroup (
                name TEXT PRIMARY KEY NOT NULL,
                profile TEXT REFERENCES timeProfile(name) ON DELETE RESTRICT,
                mode TEXT NOT NULL CHECK (mode IN ('any', 'card+pin', 'face+pin', 'unit+pin')),
                createdAt INTEGER NOT NULL
            ) STRICT;

            CREATE TABLE accessGroupDoor (
                groupName TEXT NOT NULL REFERENCES accessGroup(name) ON DELETE CASCADE,
                door TEXT NOT NULL,
                PRIMARY KEY (groupName, door)
            ) STRICT;

            CREATE TABLE residentGroup (
                residentId TEXT NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
                groupName TEXT NOT NULL REFERENCES accessGroup(name) ON DELETE CASCADE,
                PRIMARY KEY (residentId, groupName)
            ) STRICT;

            CREATE TABLE doorPassage (
                door TEXT PRIMARY KEY NOT NULL,
                profile TEXT NOT NULL REFERENCES timeProfile(name) ON DELETE RESTRICT
            ) STRICT;

            CREATE TABLE rulesVersion (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT;
            INSERT INTO rulesVersion (id, version) VALUES (1, 0);

            CREATE INDEX resident_validUntil ON resident(validUntil) WHERE validUntil IS NOT NULL;
            """)
        for table in fed {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                try db.execute(sql: """
                    CREATE TRIGGER \(table)_\(event.lowercased())_rules AFTER \(event) ON \(table)
                    BEGIN UPDATE rulesVersion SET version = version + 1 WHERE id = 1; END;
                    """)
            }
        }
    }
}
