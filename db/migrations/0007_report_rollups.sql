-- Hourly click roll-ups per (UTC hour, campaign, source, workspace), so reports over long
-- periods do not scan the click table.
--
-- Exact at every moment: a statement trigger adds each INSERT's counts to click_rollup_deltas
-- in the click's own transaction (the writer's group commit, the spool replay, the API), and
-- the worker folds the deltas into click_rollups in one transaction. A report reads
-- click_rollups + click_rollup_deltas, which together always equal the committed clicks.
-- Clicks are never updated; whole days leave only by retention, which drops both.

CREATE TABLE click_rollups (
    hour timestamptz NOT NULL,
    campaign_id bigint NOT NULL,
    traffic_source_id bigint NOT NULL,
    workspace_id bigint,
    clicks bigint NOT NULL,          -- not bots
    bot_clicks bigint NOT NULL,
    unique_clicks bigint NOT NULL,   -- unique and not bots
    cost numeric NOT NULL            -- every click's model cost, bots included (as the raw report)
);
CREATE UNIQUE INDEX click_rollups_key ON click_rollups (hour, campaign_id, traffic_source_id, (coalesce(workspace_id, 0)));
CREATE INDEX click_rollups_workspace_hour ON click_rollups (workspace_id, hour);
CREATE INDEX click_rollups_campaign_hour ON click_rollups (campaign_id, hour);

CREATE TABLE click_rollup_deltas (
    hour timestamptz NOT NULL,
    campaign_id bigint NOT NULL,
    traffic_source_id bigint NOT NULL,
    workspace_id bigint,
    clicks bigint NOT NULL,
    bot_clicks bigint NOT NULL,
    unique_clicks bigint NOT NULL,
    cost numeric NOT NULL
);

CREATE FUNCTION waymark_click_rollup_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO click_rollup_deltas (hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
    SELECT date_trunc('hour', clicked_at, 'UTC'), campaign_id, traffic_source_id, workspace_id,
           count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
           count(*) FILTER (WHERE is_unique AND NOT is_bot), sum(cost)
    FROM new_clicks
    GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;

-- ON CONFLICT DO NOTHING (the spool replay) puts only the rows really inserted in new_clicks.
CREATE TRIGGER clicks_rollup AFTER INSERT ON clicks REFERENCING NEW TABLE AS new_clicks
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_click_rollup_delta();

-- Moves the committed deltas into the roll-ups; safe to run from several workers at once (a
-- delta deleted by one is skipped by the other). Returns the number of delta rows folded.
CREATE FUNCTION waymark_fold_click_rollups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    WITH moved AS (DELETE FROM click_rollup_deltas RETURNING *),
    summed AS (
        SELECT hour, campaign_id, traffic_source_id, workspace_id, sum(clicks) AS clicks, sum(bot_clicks) AS bot_clicks,
               sum(unique_clicks) AS unique_clicks, sum(cost) AS cost, count(*) AS n
        FROM moved GROUP BY 1, 2, 3, 4),
    upserted AS (
        INSERT INTO click_rollups AS r (hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
        SELECT hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost FROM summed
        ON CONFLICT (hour, campaign_id, traffic_source_id, (coalesce(workspace_id, 0))) DO UPDATE
            SET clicks = r.clicks + excluded.clicks, bot_clicks = r.bot_clicks + excluded.bot_clicks,
                unique_clicks = r.unique_clicks + excluded.unique_clicks, cost = r.cost + excluded.cost)
    -- A data-modifying WITH runs whether or not it is referenced.
    SELECT coalesce(sum(n), 0) INTO folded FROM summed;
    RETURN folded;
END $$;

-- Clicks already stored before this migration.
INSERT INTO click_rollups (hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost)
SELECT date_trunc('hour', clicked_at, 'UTC'), campaign_id, traffic_source_id, workspace_id,
       count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot), count(*) FILTER (WHERE is_unique AND NOT is_bot), sum(cost)
FROM clicks GROUP BY 1, 2, 3, 4;
