-- Scheduled spend feeds: a traffic source's cost report (a CSV link, a JSON stats endpoint)
-- fetched by the worker on a schedule and imported like an upload (origin `feed`).
CREATE TABLE spend_feeds (
    id bigserial PRIMARY KEY,
    traffic_source_id bigint NOT NULL REFERENCES traffic_sources (id) ON DELETE CASCADE,
    workspace_id bigint,
    name text NOT NULL,
    -- http(s), with {date}, {from}, {to} in `date_format` (one fetch a day when {date} is used).
    url text NOT NULL,
    method text NOT NULL DEFAULT 'GET' CHECK (method IN ('GET', 'POST')),
    -- Request headers as sealed JSON (AES-GCM, like integration tokens); only their names shown.
    headers_sealed text,
    header_names text[] NOT NULL DEFAULT '{}',
    format text NOT NULL CHECK (format IN ('csv', 'json')),
    -- JSON: where the rows are (`data.rows`; empty = the document is the array).
    json_path text NOT NULL DEFAULT '',
    -- {date, campaign, campaign_match (key|id|name|param:NAME), amount, currency, fixed_currency, dimensions {NAME: column}}
    mapping jsonb NOT NULL,
    date_format text NOT NULL DEFAULT 'yyyy-MM-dd',
    time_zone text NOT NULL DEFAULT 'UTC',
    every_hours integer CHECK (every_hours BETWEEN 1 AND 168),
    daily_at text CHECK (daily_at ~ '^[0-2][0-9]:[0-5][0-9]$'),
    lookback_days integer NOT NULL DEFAULT 3 CHECK (lookback_days BETWEEN 0 AND 60),
    timeout_seconds integer NOT NULL DEFAULT 30 CHECK (timeout_seconds BETWEEN 1 AND 300),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    paused_reason text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    max_failures integer NOT NULL DEFAULT 5 CHECK (max_failures BETWEEN 1 AND 100),
    next_run_at timestamptz,
    last_run_at timestamptz,
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((every_hours IS NULL) <> (daily_at IS NULL))
);
CREATE INDEX spend_feeds_due ON spend_feeds (next_run_at) WHERE status = 'active';

CREATE TABLE spend_feed_runs (
    id bigserial PRIMARY KEY,
    feed_id bigint NOT NULL REFERENCES spend_feeds (id) ON DELETE CASCADE,
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'preview')),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    window_from date,
    window_to date,
    http_status integer,
    rows_read integer NOT NULL DEFAULT 0,
    rows_imported integer NOT NULL DEFAULT 0,
    rows_rejected integer NOT NULL DEFAULT 0,
    -- [{row, field, message}], the first 100.
    rejected jsonb NOT NULL DEFAULT '[]',
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'failed')),
    error text
);
CREATE INDEX spend_feed_runs_feed ON spend_feed_runs (feed_id, started_at DESC);

ALTER TABLE spend_entries ADD COLUMN feed_id bigint REFERENCES spend_feeds (id) ON DELETE SET NULL;
CREATE INDEX spend_entries_feed_day ON spend_entries (feed_id, day) WHERE feed_id IS NOT NULL;
