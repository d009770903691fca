-- Issue 19: daily conversion roll-ups, so the dashboard (whole days in the workspace's zone, by
-- source, campaign, event, flow, path, lander or offer) reads no raw conversions.
--
-- A conversion changes after it is stored (status, payout, currency, event), so the roll-ups
-- are kept like the clicks': statement triggers append deltas (+1 for a new or changed row's
-- new values, −1 for its old ones), the worker folds them into the days under the same
-- advisory lock and zones as the click days, and a report adds the deltas not yet folded.
-- Roll-ups + deltas always equal the raw conversions of the workspaces cut in that zone.
-- A conversion counts in two rows, one per attribution (on its click's day, on its own), and
-- the statuses are columns: a campaign's day is one row per event, currency and flow target.
-- Event flags and the campaign's cost model are read at report time, as from the raw rows.

CREATE TABLE conversion_rollups_daily (
    workspace_id bigint,
    by_conversion boolean NOT NULL,  -- false: on the click's day; true: on the conversion's
    day date NOT NULL,
    traffic_source_id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    flow_id bigint,
    flow_path smallint,
    lander_id bigint,
    offer_id bigint,
    event_key text NOT NULL,
    currency char(3) NOT NULL,
    approved bigint NOT NULL,
    pending bigint NOT NULL,
    declined bigint NOT NULL,
    approved_payout numeric NOT NULL
);
CREATE UNIQUE INDEX conversion_rollups_daily_key ON conversion_rollups_daily (
    (coalesce(workspace_id, 0)), by_conversion, day, traffic_source_id, campaign_id,
    (coalesce(flow_id, 0)), (coalesce(flow_path, -1)), (coalesce(lander_id, 0)), (coalesce(offer_id, 0)), event_key, currency);

-- Not yet folded: the raw times, so a report cuts them in its own zone.
CREATE TABLE conversion_rollup_deltas (
    workspace_id bigint,
    clicked_at timestamptz NOT NULL,
    converted_at timestamptz NOT NULL,
    traffic_source_id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    flow_id bigint,
    flow_path smallint,
    lander_id bigint,
    offer_id bigint,
    event_key text NOT NULL,
    status text NOT NULL,
    currency char(3) NOT NULL,
    conversions int NOT NULL,
    payout numeric NOT NULL
);
CREATE INDEX conversion_rollup_deltas_clicked_at ON conversion_rollup_deltas (clicked_at);

-- One function for the three triggers: TG_OP says which transition tables exist.
CREATE FUNCTION waymark_conversion_rollup_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO conversion_rollup_deltas
        SELECT o.workspace_id, o.clicked_at, o.converted_at, o.traffic_source_id, o.campaign_id, o.flow_id, o.flow_path,
               o.lander_id, o.offer_id, o.event_key, o.status, o.currency, -1, -o.payout
        FROM old_conversions o;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO conversion_rollup_deltas
        SELECT n.workspace_id, n.clicked_at, n.converted_at, n.traffic_source_id, n.campaign_id, n.flow_id, n.flow_path,
               n.lander_id, n.offer_id, n.event_key, n.status, n.currency, 1, n.payout
        FROM new_conversions n;
    END IF;
    RETURN NULL;
END $$;

-- PostgreSQL allows transition tables only on single-event triggers.
CREATE TRIGGER conversions_rollup_insert AFTER INSERT ON conversions REFERENCING NEW TABLE AS new_conversions
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_conversion_rollup_delta();
CREATE TRIGGER conversions_rollup_update AFTER UPDATE ON conversions
    REFERENCING OLD TABLE AS old_conversions NEW TABLE AS new_conversions
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_conversion_rollup_delta();
CREATE TRIGGER conversions_rollup_delete AFTER DELETE ON conversions REFERENCING OLD TABLE AS old_conversions
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_conversion_rollup_delta();

-- Adds the conversions in the caller's temp table `conversion_folding` to the days, each cut in
-- its workspace's zone (plpgsql: the temp table exists only when it runs).
CREATE FUNCTION waymark_add_conversion_days() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO conversion_rollups_daily AS r
    SELECT f.workspace_id, a.by_conversion,
           ((CASE WHEN a.by_conversion THEN f.converted_at ELSE f.clicked_at END) AT TIME ZONE z.zone)::date,
           f.traffic_source_id, f.campaign_id, f.flow_id, f.flow_path, f.lander_id, f.offer_id, f.event_key, f.currency,
           coalesce(sum(f.conversions) FILTER (WHERE f.status = 'approved'), 0),
           coalesce(sum(f.conversions) FILTER (WHERE f.status = 'pending'), 0),
           coalesce(sum(f.conversions) FILTER (WHERE f.status = 'declined'), 0),
           coalesce(sum(f.payout) FILTER (WHERE f.status = 'approved'), 0)
    FROM conversion_folding f JOIN LATERAL (SELECT waymark_rollup_zone(f.workspace_id) AS zone) z ON z.zone IS NOT NULL
    CROSS JOIN (VALUES (false), (true)) AS a (by_conversion)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
    ON CONFLICT ((coalesce(workspace_id, 0)), by_conversion, day, traffic_source_id, campaign_id,
                 (coalesce(flow_id, 0)), (coalesce(flow_path, -1)), (coalesce(lander_id, 0)), (coalesce(offer_id, 0)),
                 event_key, currency) DO UPDATE
        SET approved = r.approved + excluded.approved, pending = r.pending + excluded.pending,
            declined = r.declined + excluded.declined, approved_payout = r.approved_payout + excluded.approved_payout;
END $$;

-- Folds the deltas into the days of workspaces cut in a zone (the others' deltas are dropped:
-- their reports read the raw conversions). Returns how many deltas were folded.
CREATE FUNCTION waymark_fold_conversion_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7431001);
    IF to_regclass('pg_temp.conversion_folding') IS NULL THEN
        CREATE TEMP TABLE conversion_folding (LIKE conversion_rollup_deltas) ON COMMIT DELETE ROWS;
    END IF;
    WITH moved AS (DELETE FROM conversion_rollup_deltas RETURNING *)
    INSERT INTO conversion_folding SELECT * FROM moved;
    PERFORM waymark_add_conversion_days();
    SELECT count(*) INTO folded FROM conversion_folding;
    TRUNCATE conversion_folding;
    RETURN folded;
END $$;

-- A workspace's days cut anew (after a change of zone): its clicks from the hourly roll-ups,
-- its conversions from the raw rows; none when the zone has offsets that are not whole hours.
CREATE OR REPLACE FUNCTION waymark_rebuild_daily_rollups(ws bigint, whole_hours boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    PERFORM pg_advisory_xact_lock(7431001);
    PERFORM waymark_fold_click_rollups();
    PERFORM waymark_fold_conversion_rollups();
    SELECT timezone INTO zone FROM workspaces WHERE id = ws FOR UPDATE;
    DELETE FROM click_rollups_daily WHERE workspace_id = ws;
    DELETE FROM conversion_rollups_daily WHERE workspace_id = ws;
    UPDATE workspaces SET rollup_timezone = zone, rollup_daily = whole_hours WHERE id = ws;
    IF whole_hours THEN
        INSERT INTO click_rollups_daily (day, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
                                         clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks)
        SELECT (hour AT TIME ZONE zone)::date, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
               sum(clicks), sum(bot_clicks), sum(unique_clicks), sum(cost), sum(lander_views), sum(lander_clicks)
        FROM click_rollups WHERE workspace_id = ws GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
        INSERT INTO conversion_folding
        SELECT workspace_id, clicked_at, converted_at, traffic_source_id, campaign_id, flow_id, flow_path, lander_id, offer_id,
               event_key, status, currency, 1, payout
        FROM conversions WHERE workspace_id = ws;
        PERFORM waymark_add_conversion_days();
        TRUNCATE conversion_folding;
    END IF;
    -- A rebuilt table would otherwise look empty to the planner until autovacuum came by.
    ANALYZE click_rollups_daily;
    ANALYZE conversion_rollups_daily;
END $$;

-- What is already stored: the days of every workspace cut in a zone, and Public's (UTC).
CREATE TEMP TABLE conversion_folding (LIKE conversion_rollup_deltas) ON COMMIT DELETE ROWS;
INSERT INTO conversion_folding
SELECT workspace_id, clicked_at, converted_at, traffic_source_id, campaign_id, flow_id, flow_path, lander_id, offer_id,
       event_key, status, currency, 1, payout
FROM conversions;
SELECT waymark_add_conversion_days();
DROP TABLE conversion_folding;
