-- Daily click roll-ups in each workspace's own time zone: the dashboard's default period is
-- whole days in that zone, and 30 days of hourly rows for 500 campaigns are 360 000 rows to
-- sum on every view, 24 times what the days need.
--
-- Built from the hourly roll-ups, so only for zones whose offset is whole hours: the worker
-- folds each hourly delta into both tables in one transaction, and when a workspace's time
-- zone changes it rebuilds that workspace's days from the hourly rows (under the same
-- advisory lock as the folds). A report uses the days only for workspaces whose
-- `rollup_timezone` is the report's zone; the rest come from the hourly rows; the deltas not
-- yet folded are always added from the hourly deltas. Public sources (no workspace) are cut in UTC.

ALTER TABLE workspaces
    ADD COLUMN rollup_timezone text,          -- the zone click_rollups_daily is cut in (checked)
    ADD COLUMN rollup_daily boolean NOT NULL DEFAULT false;  -- false: the zone has non-whole-hour offsets

CREATE TABLE click_rollups_daily (
    day date NOT NULL,
    campaign_id bigint NOT NULL,
    traffic_source_id bigint NOT NULL,
    workspace_id bigint,
    clicks bigint NOT NULL,
    bot_clicks bigint NOT NULL,
    unique_clicks bigint NOT NULL,
    cost numeric NOT NULL
);
CREATE UNIQUE INDEX click_rollups_daily_key ON click_rollups_daily (day, campaign_id, traffic_source_id, (coalesce(workspace_id, 0)));
CREATE INDEX click_rollups_daily_workspace_day ON click_rollups_daily (workspace_id, day);

-- The zone a workspace's days are cut in by the folds (NULL: not built; only hourly then).
CREATE FUNCTION waymark_rollup_zone(ws bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN ws IS NULL THEN 'UTC'
                ELSE (SELECT rollup_timezone FROM workspaces WHERE id = ws AND rollup_daily) END
$$;

CREATE OR REPLACE FUNCTION waymark_fold_click_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    -- One folder (or rebuild) at a time: the days must be cut in the zone the rebuild saw.
    PERFORM pg_advisory_xact_lock(7431001);
    IF to_regclass('pg_temp.folding') IS NULL THEN
        CREATE TEMP TABLE folding (LIKE click_rollup_deltas) ON COMMIT DELETE ROWS;
    END IF;
    WITH moved AS (DELETE FROM click_rollup_deltas RETURNING *)
    INSERT INTO folding SELECT * FROM moved;
    INSERT INTO click_rollups AS r (hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
    SELECT hour, campaign_id, traffic_source_id, workspace_id, sum(clicks), sum(bot_clicks), sum(unique_clicks), sum(cost)
    FROM folding GROUP BY 1, 2, 3, 4
    ON CONFLICT (hour, campaign_id, traffic_source_id, (coalesce(workspace_id, 0))) DO UPDATE
        SET clicks = r.clicks + excluded.clicks, bot_clicks = r.bot_clicks + excluded.bot_clicks,
            unique_clicks = r.unique_clicks + excluded.unique_clicks, cost = r.cost + excluded.cost;
    INSERT INTO click_rollups_daily AS r (day, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
    SELECT (f.hour AT TIME ZONE z.zone)::date, f.campaign_id, f.traffic_source_id, f.workspace_id,
           sum(f.clicks), sum(f.bot_clicks), sum(f.unique_clicks), sum(f.cost)
    FROM folding f JOIN LATERAL (SELECT waymark_rollup_zone(f.workspace_id) AS zone) z ON z.zone IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, campaign_id, traffic_source_id, (coalesce(workspace_id, 0))) DO UPDATE
        SET clicks = r.clicks + excluded.clicks, bot_clicks = r.bot_clicks + excluded.bot_clicks,
            unique_clicks = r.unique_clicks + excluded.unique_clicks, cost = r.cost + excluded.cost;
    SELECT count(*) INTO folded FROM folding;
    TRUNCATE folding;
    RETURN folded;
END $$;

-- Cuts a workspace's days anew in its current zone (after a change of zone), or drops them
-- when the zone has offsets that are not whole hours.
CREATE FUNCTION waymark_rebuild_daily_rollups(ws bigint, whole_hours boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    PERFORM pg_advisory_xact_lock(7431001);
    PERFORM waymark_fold_click_rollups();
    SELECT timezone INTO zone FROM workspaces WHERE id = ws FOR UPDATE;
    DELETE FROM click_rollups_daily WHERE workspace_id = ws;
    IF whole_hours THEN
        INSERT INTO click_rollups_daily (day, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
        SELECT (hour AT TIME ZONE zone)::date, campaign_id, traffic_source_id, workspace_id,
               sum(clicks), sum(bot_clicks), sum(unique_clicks), sum(cost)
        FROM click_rollups WHERE workspace_id = ws GROUP BY 1, 2, 3, 4;
    END IF;
    UPDATE workspaces SET rollup_timezone = zone, rollup_daily = whole_hours WHERE id = ws;
    -- A rebuilt table would otherwise look empty to the planner until autovacuum came by.
    ANALYZE click_rollups_daily;
END $$;

-- Public sources' days, from what is already rolled up (in UTC).
INSERT INTO click_rollups_daily (day, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
SELECT (hour AT TIME ZONE 'UTC')::date, campaign_id, traffic_source_id, NULL, sum(clicks), sum(bot_clicks), sum(unique_clicks), sum(cost)
FROM click_rollups WHERE workspace_id IS NULL GROUP BY 1, 2, 3;
