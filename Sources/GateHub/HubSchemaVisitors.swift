extension HubSchema {
    /// Visitor passes issued at the hub (docs/fleet.md#visitor-passes). Stored as a gate's store stores them:
    /// the keypad code only as its site-keyed tag, never in clear; the QR text is not stored at all (it is a
    /// signature under the site key, made again by nobody). A pass's row changes only to be revoked; its uses
    /// are counted from `visitor_use`, the granted visitor decisions each gate reports, and every issue,
    /// revocation and reported use logs a `visitor` change that every gate of the site replicates.
    static let hubV2Visitors = Migration(name: "hub-v2-visitors", statements: [
        "ALTER TABLE change DROP CONSTRAINT change_kind_check",
        "ALTER TABLE change ADD CONSTRAINT change_kind_check CHECK (kind IN ('resident', 'erase', 'consent', 'visitor'))",
        "ALTER TABLE change ALTER COLUMN resident_id DROP NOT NULL",
        "ALTER TABLE change ADD COLUMN pass_id text",
        "ALTER TABLE change ADD CONSTRAINT change_names_one CHECK ((kind = 'visitor') = (pass_id IS NOT NULL AND resident_id IS NULL))",
        """
        CREATE TABLE visitor_pass (
            id text PRIMARY KEY CHECK (id ~ '^v[0-9a-f]{12}$'),
            site_id bigint NOT NULL REFERENCES site(id),
            name text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100),
            code_tag bytea NOT NULL,
            doors text[] NOT NULL CHECK (cardinality(doors) >= 1),
            valid_from timestamptz NOT NULL,
            valid_until timestamptz NOT NULL CHECK (valid_until > valid_from),
            uses_total integer NOT NULL CHECK (uses_total BETWEEN 1 AND 1000),
            revoked_at timestamptz,
            operator text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (site_id, code_tag)
        )
        """,
        "CREATE INDEX visitor_pass_site ON visitor_pass(site_id, created_at)",
        // One row per granted visitor decision a gate reports: (gate, local_seq) is the gate's audit sequence,
        // so a repeated push stores each use once. Uses of a pass issued at the box itself are reported too
        // (they match no hub pass and change nothing).
        """
        CREATE TABLE visitor_use (
            gate_id bigint NOT NULL REFERENCES gate(id),
            local_seq bigint NOT NULL,
            site_id bigint NOT NULL REFERENCES site(id),
            pass_id text NOT NULL,
            time timestamptz NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (gate_id, local_seq)
        )
        """,
        "CREATE INDEX visitor_use_pass ON visitor_use(pass_id)",
        """
        CREATE FUNCTION optgate_visitor_pass_only_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
               OR (NEW.id, NEW.site_id, NEW.name, NEW.code_tag, NEW.doors, NEW.valid_from, NEW.valid_until, NEW.uses_total)
                  IS DISTINCT FROM (OLD.id, OLD.site_id, OLD.name, OLD.code_tag, OLD.doors, OLD.valid_from, OLD.valid_until, OLD.uses_total) THEN
                RAISE EXCEPTION 'a visitor pass is only revoked, never changed otherwise';
            END IF;
            RETURN NEW;
        END $$
        """,
        """
        CREATE TRIGGER visitor_pass_only_revoked BEFORE UPDATE ON visitor_pass
        FOR EACH ROW EXECUTE FUNCTION optgate_visitor_pass_only_revoked()
        """,
        // SECURITY DEFINER: a gate role reporting a use may not write the change log itself.
        """
        CREATE FUNCTION optgate_log_visitor_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public AS $$
        BEGIN
            IF TG_TABLE_NAME = 'visitor_pass' THEN
                INSERT INTO change (site_id, kind, pass_id) VALUES (NEW.site_id, 'visitor', NEW.id);
            ELSIF EXISTS (SELECT 1 FROM visitor_pass WHERE id = NEW.pass_id AND site_id = NEW.site_id) THEN
                INSERT INTO change (site_id, kind, pass_id) VALUES (NEW.site_id, 'visitor', NEW.pass_id);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE TRIGGER visitor_pass_change AFTER INSERT OR UPDATE ON visitor_pass FOR EACH ROW EXECUTE FUNCTION optgate_log_visitor_change()",
        "CREATE TRIGGER visitor_use_change AFTER INSERT ON visitor_use FOR EACH ROW EXECUTE FUNCTION optgate_log_visitor_change()",
        "ALTER TABLE visitor_pass ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE visitor_use ENABLE ROW LEVEL SECURITY",
        "GRANT SELECT ON visitor_pass TO optgate_gate",
        "GRANT SELECT, INSERT ON visitor_use TO optgate_gate",
        "CREATE POLICY gate_site ON visitor_pass FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        // Every gate of the site reads the site's uses (to count them); each writes only its own.
        "CREATE POLICY gate_site_read ON visitor_use FOR SELECT TO optgate_gate USING (site_id = optgate_gate_site())",
        """
        CREATE POLICY gate_self_write ON visitor_use FOR INSERT TO optgate_gate
        WITH CHECK (gate_id = optgate_gate_id() AND site_id = optgate_gate_site())
        """,
    ])
}
