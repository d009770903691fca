-- Issue 18: the click roll-ups carry a click's flow, path, lander and offer, and count lander
-- views and click-throughs, so reports by flow, path, lander or offer still read roll-ups.
--
-- A click sent to a lander is stored with no offer; its click-through (lander_clicks) brings
-- the offer. The click is never updated, so the lander_clicks trigger moves the click's counts
-- from its (…, lander, no offer) roll-up row to (…, lander, that offer) with a pair of deltas:
-- roll-ups + deltas always equal the raw clicks with their effective offer,
-- coalesce(clicks.offer_id, lander_clicks.offer_id).

ALTER TABLE click_rollups
    ADD COLUMN flow_id bigint, ADD COLUMN flow_path smallint, ADD COLUMN lander_id bigint, ADD COLUMN offer_id bigint,
    ADD COLUMN lander_views bigint NOT NULL DEFAULT 0,   -- not bots, sent to a lander
    ADD COLUMN lander_clicks bigint NOT NULL DEFAULT 0;  -- not bots, clicked through
ALTER TABLE click_rollup_deltas
    ADD COLUMN flow_id bigint, ADD COLUMN flow_path smallint, ADD COLUMN lander_id bigint, ADD COLUMN offer_id bigint,
    ADD COLUMN lander_views bigint NOT NULL DEFAULT 0, ADD COLUMN lander_clicks bigint NOT NULL DEFAULT 0;
ALTER TABLE click_rollups_daily
    ADD COLUMN flow_id bigint, ADD COLUMN flow_path smallint, ADD COLUMN lander_id bigint, ADD COLUMN offer_id bigint,
    ADD COLUMN lander_views bigint NOT NULL DEFAULT 0, ADD COLUMN lander_clicks bigint NOT NULL DEFAULT 0;

-- Existing rows have no flow: their keys stay unique under the wider key.
DROP INDEX click_rollups_key;
CREATE UNIQUE INDEX click_rollups_key ON click_rollups (
    hour, campaign_id, traffic_source_id, (coalesce(workspace_id, 0)),
    (coalesce(flow_id, 0)), (coalesce(flow_path, -1)), (coalesce(lander_id, 0)), (coalesce(offer_id, 0)));
DROP INDEX click_rollups_daily_key;
CREATE UNIQUE INDEX click_rollups_daily_key ON click_rollups_daily (
    day, campaign_id, traffic_source_id, (coalesce(workspace_id, 0)),
    (coalesce(flow_id, 0)), (coalesce(flow_path, -1)), (coalesce(lander_id, 0)), (coalesce(offer_id, 0)));

CREATE OR REPLACE FUNCTION waymark_click_rollup_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO click_rollup_deltas (hour, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
                                     clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks)
    SELECT date_trunc('hour', clicked_at, 'UTC'), campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
           count(*) FILTER (WHERE is_unique AND NOT is_bot), sum(cost),
           count(*) FILTER (WHERE lander_id IS NOT NULL AND NOT is_bot), 0
    FROM new_clicks
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    RETURN NULL;
END $$;

-- A click-through moves its click from "no offer" to its offer (−1 there, +1 here) and counts
-- one lander click. ON CONFLICT DO NOTHING (a repeat, a replay) leaves the row out of new_lc.
CREATE FUNCTION waymark_lander_click_rollup_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO click_rollup_deltas (hour, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
                                     clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks)
    SELECT date_trunc('hour', n.clicked_at, 'UTC'), n.campaign_id, n.traffic_source_id, n.workspace_id, n.flow_id, n.flow_path,
           n.lander_id, CASE WHEN s.sign > 0 THEN n.offer_id END,
           s.sign * count(*) FILTER (WHERE NOT n.is_bot), s.sign * count(*) FILTER (WHERE n.is_bot),
           s.sign * count(*) FILTER (WHERE n.is_unique AND NOT n.is_bot), s.sign * sum(n.cost),
           s.sign * count(*) FILTER (WHERE NOT n.is_bot),
           CASE WHEN s.sign > 0 THEN count(*) FILTER (WHERE NOT n.is_bot) ELSE 0 END
    FROM new_lc n CROSS JOIN (VALUES (-1), (1)) AS s (sign)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, s.sign;
    RETURN NULL;
END $$;

CREATE TRIGGER lander_clicks_rollup AFTER INSERT ON lander_clicks REFERENCING NEW TABLE AS new_lc
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_lander_click_rollup_delta();

CREATE OR REPLACE FUNCTION waymark_fold_click_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    -- One folder (or rebuild) at a time: the days must be cut in the zone the rebuild saw.
    PERFORM pg_advisory_xact_lock(7431001);
    -- A new name: a session may still hold the narrower `folding` of 0009.
    IF to_regclass('pg_temp.rollup_folding') IS NULL THEN
        CREATE TEMP TABLE rollup_folding (LIKE click_rollup_deltas) ON COMMIT DELETE ROWS;
    END IF;
    WITH moved AS (DELETE FROM click_rollup_deltas RETURNING *)
    INSERT INTO rollup_folding SELECT * FROM moved;
    INSERT INTO click_rollups AS r (hour, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
                                    clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks)
    SELECT hour, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
           sum(clicks), sum(bot_clicks), sum(unique_clicks), sum(cost), sum(lander_views), sum(lander_clicks)
    FROM rollup_folding GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (hour, campaign_id, traffic_source_id, (coalesce(workspace_id, 0)),
                 (coalesce(flow_id, 0)), (coalesce(flow_path, -1)), (coalesce(lander_id, 0)), (coalesce(offer_id, 0))) DO UPDATE
        SET clicks = r.clicks + excluded.clicks, bot_clicks = r.bot_clicks + excluded.bot_clicks,
            unique_clicks = r.unique_clicks + excluded.unique_clicks, cost = r.cost + excluded.cost,
            lander_views = r.lander_views + excluded.lander_views, lander_clicks = r.lander_clicks + excluded.lander_clicks;
    INSERT INTO click_rollups_daily AS r (day, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
                                          clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks)
    SELECT (f.hour AT TIME ZONE z.zone)::date, f.campaign_id, f.traffic_source_id, f.workspace_id,
           f.flow_id, f.flow_path, f.lander_id, f.offer_id,
           sum(f.clicks), sum(f.bot_clicks), sum(f.unique_clicks), sum(f.cost), sum(f.lander_views), sum(f.lander_clicks)
    FROM rollup_folding f JOIN LATERAL (SELECT waymark_rollup_zone(f.workspace_id) AS zone) z ON z.zone IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (day, campaign_id, traffic_source_id, (coalesce(workspace_id, 0)),
                 (coalesce(flow_id, 0)), (coalesce(flow_path, -1)), (coalesce(lander_id, 0)), (coalesce(offer_id, 0))) DO UPDATE
        SET clicks = r.clicks + excluded.clicks, bot_clicks = r.bot_clicks + excluded.bot_clicks,
            unique_clicks = r.unique_clicks + excluded.unique_clicks, cost = r.cost + excluded.cost,
            lander_views = r.lander_views + excluded.lander_views, lander_clicks = r.lander_clicks + excluded.lander_clicks;
    SELECT count(*) INTO folded FROM rollup_folding;
    TRUNCATE rollup_folding;
    RETURN folded;
END $$;

CREATE OR REPLACE FUNCTION waymark_rebuild_daily_rollups(ws bigint, whole_hours boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    zone text;
BEGIN
    PERFORM pg_advisory_xact_lock(7431001);
    PERFORM waymark_fold_click_rollups();
    SELECT timezone INTO zone FROM workspaces WHERE id = ws FOR UPDATE;
    DELETE FROM click_rollups_daily WHERE workspace_id = ws;
    IF whole_hours THEN
        INSERT INTO click_rollups_daily (day, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
                                         clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks)
        SELECT (hour AT TIME ZONE zone)::date, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id,
               sum(clicks), sum(bot_clicks), sum(unique_clicks), sum(cost), sum(lander_views), sum(lander_clicks)
        FROM click_rollups WHERE workspace_id = ws GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    END IF;
    UPDATE workspaces SET rollup_timezone = zone, rollup_daily = whole_hours WHERE id = ws;
    -- A rebuilt table would otherwise look empty to the planner until autovacuum came by.
    ANALYZE click_rollups_daily;
END $$;

-- The retention (ClickPartitionStore) drops a day of clicks with its roll-ups; the click-throughs
-- of that day's clicks go with them. In SQL so that the click writer's store stays the one
-- writer of lander_clicks in the code.
CREATE FUNCTION waymark_drop_lander_clicks(day_start timestamptz) RETURNS void LANGUAGE sql AS $$
    DELETE FROM lander_clicks WHERE clicked_at >= day_start AND clicked_at < day_start + interval '1 day'
$$;
