-- Issue 16: what moves with a traffic source, the login throttle's last failure, and the
-- expiry of postbacks that name no known click.

-- A source's integrations and spend feeds belong to its workspace: moved with it, whoever
-- moves it (one rule in the database instead of one per writer).
CREATE FUNCTION traffic_source_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE integrations SET workspace_id = NEW.workspace_id WHERE traffic_source_id = NEW.id;
    UPDATE spend_feeds SET workspace_id = NEW.workspace_id WHERE traffic_source_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER traffic_source_moved AFTER UPDATE OF workspace_id ON traffic_sources
    FOR EACH ROW WHEN (OLD.workspace_id IS DISTINCT FROM NEW.workspace_id) EXECUTE FUNCTION traffic_source_moved();

-- Sources moved before this migration.
UPDATE integrations i SET workspace_id = s.workspace_id FROM traffic_sources s
    WHERE s.id = i.traffic_source_id AND i.workspace_id IS DISTINCT FROM s.workspace_id;
UPDATE spend_feeds f SET workspace_id = s.workspace_id FROM traffic_sources s
    WHERE s.id = f.traffic_source_id AND f.workspace_id IS DISTINCT FROM s.workspace_id;

-- The throttle answers "wait" without sleeping: it needs to know when the last failure was.
ALTER TABLE login_throttle ADD COLUMN last_failure_at timestamptz;

-- Postbacks refused before a click was found (bad input) and naming no workspace expire like
-- unattributed ones.
CREATE INDEX postbacks_invalid ON postbacks (received_at) WHERE outcome = 'invalid' AND workspace_id IS NULL;

-- Run now is the worker's: the page asks, the worker runs (no outbound call on a responder thread).
ALTER TABLE spend_feeds ADD COLUMN run_requested_at timestamptz;
