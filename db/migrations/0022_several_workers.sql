-- Several workers against one database (issue 21): each job claims its unit of work or runs
-- under a lock, so nothing is done twice.

-- Leases that Sync Now / Run now cannot break (they only make the next run due): a second
-- worker never pulls an integration or runs a feed while another one does; a dead worker's
-- lease ends by itself.
ALTER TABLE integrations ADD COLUMN sync_leased_until timestamptz;
ALTER TABLE spend_feeds ADD COLUMN run_leased_until timestamptz;

-- Partitions made one at a time: two workers (or a worker and a click writer) making the same
-- day both pass the check, and CREATE … IF NOT EXISTS alone then fails with 42P07/23505.
CREATE OR REPLACE FUNCTION waymark_ensure_click_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := 'clicks_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(7431002);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)',
                       name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    END IF;
END $$;

-- As in 0016, except that the workspace's conversions are read raw and the deltas they already
-- hold are deleted in ONE statement (one snapshot): a conversion written during the rebuild is
-- either in both (its delta dropped) or in neither (folded later), never counted twice.
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
        WITH replaced AS (DELETE FROM conversion_rollup_deltas WHERE workspace_id = ws)
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

-- The worker's call: cuts a workspace anew only while it is still cut in another zone and
-- `zone` (the one `whole_hours` was computed for) is still its zone; false otherwise (another
-- worker cut it already, or the zone changed again and the next cycle computes anew).
CREATE FUNCTION waymark_rebuild_stale_daily_rollups(ws bigint, zone text, whole_hours boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7431001);
    PERFORM 1 FROM workspaces WHERE id = ws AND timezone = zone AND rollup_timezone IS DISTINCT FROM timezone FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM waymark_rebuild_daily_rollups(ws, whole_hours);
    RETURN true;
END $$;
