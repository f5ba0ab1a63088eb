/// The hub's schema (docs/fleet.md), versioned like the gate's SQLite migrations: each migration runs once, in
/// order, inside one transaction, and is recorded by name in `schema_migration`. Never edit a shipped
/// migration; append one.
///
/// What is here and what never is: the directory of each site (residents, cards as keyed tags, PIN hashes,
/// validity), the consent ledger, erasure tombstones, the change log, the gates' events, audit heads and
/// deletion receipts. No face template and no face-derived column exists anywhere (R8: templates stay on
/// the gate box that enrolled them).
///
/// Roles: the hub's owner (the manager's `--hub` URL) owns every table; each gate logs in as its own role,
/// member of `optgate_gate`, and row-level security limits it to its site's rows and its own events.
enum HubSchema {
    struct Migration {
        var name: String
        /// One statement each: the extended query protocol takes one statement at a time.
        var statements: [String]
    }

    static let migrations: [Migration] = [hubV1, hubV2Visitors, hubV2Fleethub, hubV3Resync]

    static let hubV1 = Migration(name: "hub-v1", statements: [
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'optgate_gate') THEN
                CREATE ROLE optgate_gate NOLOGIN;
            END IF;
        END $$
        """,
        """
        CREATE TABLE site (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        // The site secret the card and PIN-lookup tags are keyed with (`SiteKeys`): never granted to a gate role;
        // a gate receives it once, in its credentials file.
        """
        CREATE TABLE site_secret (
            site_id bigint PRIMARY KEY REFERENCES site(id) ON DELETE CASCADE,
            secret text NOT NULL CHECK (secret ~ '^[0-9a-f]{64}$')
        )
        """,
        """
        CREATE TABLE gate (
            id bigserial PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES site(id),
            name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
            role name NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        // The site of the role running the query: the gate roles' row-level security predicate.
        """
        CREATE FUNCTION optgate_gate_site() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public AS $$ SELECT site_id FROM gate WHERE role = session_user $$
        """,
        """
        CREATE FUNCTION optgate_gate_id() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public AS $$ SELECT id FROM gate WHERE role = session_user $$
        """,
        """
        CREATE TABLE resident (
            id text PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES site(id),
            display_name text NOT NULL,
            unit text NOT NULL,
            valid_from timestamptz,
            valid_until timestamptz,
            groups text[] NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX resident_site ON resident(site_id)",
        """
        CREATE TABLE card (
            id bigserial PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES site(id),
            resident_id text NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
            uid_tag bytea NOT NULL,
            uid_last4 text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (site_id, uid_tag)
        )
        """,
        "CREATE INDEX card_resident ON card(resident_id)",
        """
        CREATE TABLE pin (
            resident_id text PRIMARY KEY REFERENCES resident(id) ON DELETE CASCADE,
            site_id bigint NOT NULL REFERENCES site(id),
            lookup_tag bytea,
            hash text NOT NULL CHECK (hash LIKE 'scrypt$%'),
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        // The consent ledger: append-only; a withdrawal is a new row. Rows go only with their resident, when
        // that resident is erased (the erasing transaction sets optgate.erasing to the resident's id).
        """
        CREATE TABLE consent (
            id bigserial PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES site(id),
            resident_id text NOT NULL REFERENCES resident(id) ON DELETE CASCADE,
            action text NOT NULL CHECK (action IN ('grant', 'withdraw')),
            time timestamptz NOT NULL DEFAULT now(),
            notice_version text NOT NULL,
            notice_sha256 text NOT NULL,
            language text NOT NULL,
            method text NOT NULL CHECK (method IN ('kiosk', 'paper', 'console')),
            operator text NOT NULL,
            scope text NOT NULL
        )
        """,
        "CREATE INDEX consent_resident ON consent(resident_id, id)",
        """
        CREATE FUNCTION optgate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'consent'
               AND current_setting('optgate.erasing', true) = OLD.resident_id THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'the % table is append-only', TG_TABLE_NAME;
        END $$
        """,
        """
        CREATE TRIGGER consent_append_only BEFORE UPDATE OR DELETE ON consent
        FOR EACH ROW EXECUTE FUNCTION optgate_append_only()
        """,
        // Erasure tombstones: who erased whom and when, the resident by random id only (no name, no unit).
        """
        CREATE TABLE erasure (
            id bigserial PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES site(id),
            resident_id text NOT NULL,
            operator text NOT NULL,
            time timestamptz NOT NULL DEFAULT now()
        )
        """,
        // The change log the gates replicate from: "resident R of site S changed at seq N" (kind `resident`:
        // read R's current rows; `erase`: delete R and everything of R's; `consent`: ledger row N appended).
        // Sequence numbers commit in order: the BEFORE INSERT trigger takes a transaction-scoped advisory lock
        // before drawing the number, so a gate that has applied N never later sees a smaller one appear.
        """
        CREATE TABLE change (
            seq bigint PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES site(id),
            kind text NOT NULL CHECK (kind IN ('resident', 'erase', 'consent')),
            resident_id text NOT NULL,
            consent_id bigint,
            time timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE SEQUENCE change_seq",
        "CREATE INDEX change_site ON change(site_id, seq)",
        """
        CREATE FUNCTION optgate_change_number() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(7353001);
            NEW.seq := nextval('change_seq');
            RETURN NEW;
        END $$
        """,
        """
        CREATE TRIGGER change_number BEFORE INSERT ON change
        FOR EACH ROW EXECUTE FUNCTION optgate_change_number()
        """,
        """
        CREATE FUNCTION optgate_change_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('optgate_site_' || NEW.site_id, NEW.seq::text);
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER change_notify AFTER INSERT ON change
        FOR EACH ROW EXECUTE FUNCTION optgate_change_notify()
        """,
        """
        CREATE TRIGGER change_append_only BEFORE UPDATE OR DELETE ON change
        FOR EACH ROW EXECUTE FUNCTION optgate_append_only()
        """,
        // Every directory write logs its change in the same transaction, whoever writes (CLI, later the console).
        """
        CREATE FUNCTION optgate_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            row_site bigint;
            row_resident text;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                row_site := OLD.site_id;
                row_resident := to_jsonb(OLD) ->> (CASE WHEN TG_TABLE_NAME = 'resident' THEN 'id' ELSE 'resident_id' END);
            ELSE
                row_site := NEW.site_id;
                row_resident := to_jsonb(NEW) ->> (CASE WHEN TG_TABLE_NAME = 'resident' THEN 'id' ELSE 'resident_id' END);
            END IF;
            IF TG_TABLE_NAME = 'resident' AND TG_OP = 'DELETE' THEN
                INSERT INTO change (site_id, kind, resident_id) VALUES (row_site, 'erase', row_resident);
            ELSIF TG_TABLE_NAME = 'consent' THEN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO change (site_id, kind, resident_id, consent_id)
                    VALUES (row_site, 'consent', row_resident, (to_jsonb(NEW) ->> 'id')::bigint);
                END IF;
            ELSIF current_setting('optgate.erasing', true) IS DISTINCT FROM row_resident THEN
                INSERT INTO change (site_id, kind, resident_id) VALUES (row_site, 'resident', row_resident);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER resident_change AFTER INSERT OR UPDATE OR DELETE ON resident FOR EACH ROW EXECUTE FUNCTION optgate_log_change()",
        "CREATE TRIGGER card_change AFTER INSERT OR UPDATE OR DELETE ON card FOR EACH ROW EXECUTE FUNCTION optgate_log_change()",
        "CREATE TRIGGER pin_change AFTER INSERT OR UPDATE OR DELETE ON pin FOR EACH ROW EXECUTE FUNCTION optgate_log_change()",
        "CREATE TRIGGER consent_change AFTER INSERT ON consent FOR EACH ROW EXECUTE FUNCTION optgate_log_change()",
        // Events the gates push: (gate, local_seq) is the gate's own audit sequence, so a push repeated after a
        // lost acknowledgement inserts nothing (ON CONFLICT DO NOTHING): each event exactly once.
        """
        CREATE TABLE event (
            gate_id bigint NOT NULL REFERENCES gate(id),
            local_seq bigint NOT NULL,
            site_id bigint NOT NULL REFERENCES site(id),
            time timestamptz NOT NULL,
            category text NOT NULL,
            action text,
            door text,
            method text,
            result text,
            reason text,
            resident_id text,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (gate_id, local_seq)
        )
        """,
        "CREATE INDEX event_site_time ON event(site_id, time)",
        // Each gate's signed audit head: the hub is an external witness of the gate's log.
        """
        CREATE TABLE audit_head (
            gate_id bigint PRIMARY KEY REFERENCES gate(id),
            seq bigint NOT NULL,
            hash bytea NOT NULL,
            mac bytea,
            time timestamptz,
            received_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        // A gate's acknowledgement that a withdrawal or erasure (change seq) deleted its local templates.
        """
        CREATE TABLE deletion_receipt (
            gate_id bigint NOT NULL REFERENCES gate(id),
            change_seq bigint NOT NULL REFERENCES change(seq),
            templates_deleted integer NOT NULL CHECK (templates_deleted >= 0),
            time timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (gate_id, change_seq)
        )
        """,
        // Where each gate's replica stands, written by the gate after each applied batch.
        """
        CREATE TABLE gate_sync (
            gate_id bigint PRIMARY KEY REFERENCES gate(id),
            applied_seq bigint NOT NULL,
            time timestamptz NOT NULL DEFAULT now()
        )
        """,
        // Row-level security. The owner (manager) bypasses it; gate roles see only their site, write only as
        // themselves. No grant at all on site_secret or erasure.
        "ALTER TABLE site ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE gate ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE resident ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE card ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE pin ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE consent ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE change ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE event ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE audit_head ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE deletion_receipt ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE gate_sync ENABLE ROW LEVEL SECURITY",
        "GRANT SELECT ON site, gate, resident, card, pin, consent, change TO optgate_gate",
        "GRANT SELECT, INSERT ON event, deletion_receipt TO optgate_gate",
        "GRANT SELECT, INSERT, UPDATE ON audit_head, gate_sync TO optgate_gate",
        "CREATE POLICY gate_site ON site FOR SELECT TO optgate_gate USING (id = optgate_gate_site())",
        "CREATE POLICY gate_self ON gate FOR SELECT TO optgate_gate USING (role = session_user)",
        "CREATE POLICY gate_site ON resident FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        "CREATE POLICY gate_site ON card FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        "CREATE POLICY gate_site ON pin FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        "CREATE POLICY gate_site ON consent FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        "CREATE POLICY gate_site ON change FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        """
        CREATE POLICY gate_self ON event TO optgate_gate
        USING (gate_id = optgate_gate_id()) WITH CHECK (gate_id = optgate_gate_id() AND site_id = optgate_gate_site())
        """,
        "CREATE POLICY gate_self ON audit_head TO optgate_gate USING (gate_id = optgate_gate_id()) WITH CHECK (gate_id = optgate_gate_id())",
        "CREATE POLICY gate_self ON deletion_receipt TO optgate_gate USING (gate_id = optgate_gate_id()) WITH CHECK (gate_id = optgate_gate_id())",
        "CREATE POLICY gate_self ON gate_sync TO optgate_gate USING (gate_id = optgate_gate_id()) WITH CHECK (gate_id = optgate_gate_id())",
    ])

    /// The hub as an external witness of each gate's audit log, and what a gate reports back when it finds the
    /// hub or its own log went back in time (docs/fleet.md).
    static let hubV2Fleethub = Migration(name: "hub-v2-fleethub", statements: [
        // A witnessed head only moves forward: a gate (or whoever holds its role) cannot replace the head the
        // hub holds with an older or a different one. The manager resets it with `audit heads --accept GATE`.
        """
        CREATE FUNCTION optgate_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash) THEN
                RAISE EXCEPTION 'the witnessed audit head of gate % cannot go back from entry % to %', OLD.gate_id, OLD.seq, NEW.seq
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
        """,
        """
        CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION optgate_audit_head_forward()
        """,
        // What a gate found when it compared itself with the hub: `auditDiverged` (its log no longer contains the
        // head the hub witnessed: truncated, rewritten or restored from an older copy) or `hubRolledBack` (the
        // hub's change log is behind what the gate applied: the hub was restored from an older backup). Append-only
        // for the gate; the manager reads them with `audit heads` and `gate list`.
        """
        CREATE TABLE fleet_alarm (
            id bigserial PRIMARY KEY,
            gate_id bigint NOT NULL REFERENCES gate(id),
            kind text NOT NULL CHECK (kind IN ('auditDiverged', 'hubRolledBack', 'revocationConflict')),
            hub_seq bigint,
            gate_seq bigint,
            detail text NOT NULL,
            time timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX fleet_alarm_gate ON fleet_alarm(gate_id, id)",
        "ALTER TABLE fleet_alarm ENABLE ROW LEVEL SECURITY",
        "GRANT SELECT, INSERT ON fleet_alarm TO optgate_gate",
        "GRANT USAGE ON SEQUENCE fleet_alarm_id_seq TO optgate_gate",
        "CREATE POLICY gate_self ON fleet_alarm TO optgate_gate USING (gate_id = optgate_gate_id()) WITH CHECK (gate_id = optgate_gate_id())",
    ])
}
