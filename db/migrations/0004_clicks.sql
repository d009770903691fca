-- Clicks: one row per visitor sent through a campaign URL, partitioned by day. Click ids
-- embed their time, so a lookup by id goes straight to one day's partition.

CREATE TABLE clicks (
    id text NOT NULL,
    clicked_at timestamptz NOT NULL,
    campaign_id bigint NOT NULL,
    traffic_source_id bigint NOT NULL,
    workspace_id bigint,
    ip text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    referrer text NOT NULL DEFAULT '',
    -- The ad platform's own click id (value of the source's click-id parameter).
    external_id text,
    cost numeric(18, 6) NOT NULL DEFAULT 0,
    is_bot boolean NOT NULL DEFAULT false,
    is_unique boolean NOT NULL DEFAULT false,
    country text NOT NULL DEFAULT '',
    device text NOT NULL DEFAULT '',
    os text NOT NULL DEFAULT '',
    browser text NOT NULL DEFAULT '',
    destination text NOT NULL DEFAULT '',
    -- Tracking parameters in the source's stable slots (traffic_sources.parameters[].slot).
    p1 text,
    p2 text,
    p3 text,
    p4 text,
    p5 text,
    p6 text,
    p7 text,
    p8 text,
    p9 text,
    p10 text,
    p11 text,
    p12 text,
    p13 text,
    p14 text,
    p15 text,
    p16 text,
    p17 text,
    p18 text,
    p19 text,
    p20 text,
    p21 text,
    p22 text,
    p23 text,
    p24 text,
    p25 text,
    p26 text,
    p27 text,
    p28 text,
    p29 text,
    p30 text,
    -- Query parameters that are not the source's, kept as they came.
    extra jsonb,
    PRIMARY KEY (id, clicked_at)
) PARTITION BY RANGE (clicked_at);
CREATE INDEX clicks_campaign_time ON clicks (campaign_id, clicked_at);

-- Creates the partition of one UTC day if it is missing (the worker runs it ahead of time; the
-- click writer runs it when a row finds no partition).
CREATE FUNCTION waymark_ensure_click_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := 'clicks_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)',
                       name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    END IF;
END $$;

SELECT waymark_ensure_click_partition((now() AT TIME ZONE 'UTC')::date + d) FROM generate_series(-2, 7) AS d;

-- The responders keep campaigns in memory and reload them when told.
CREATE FUNCTION waymark_notify_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('waymark_campaigns', '');
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_changed AFTER INSERT OR UPDATE OR DELETE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_campaigns();
CREATE TRIGGER traffic_sources_changed AFTER INSERT OR UPDATE OR DELETE ON traffic_sources
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_campaigns();
