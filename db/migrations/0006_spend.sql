-- Spend (cost) entries and the FX rates amounts convert with.

-- One entry per key: (day, traffic source, campaign or none, dimensions or none). Re-sending
-- a key replaces its amount, so every import path is safe to repeat.
CREATE TABLE spend_entries (
    id bigserial PRIMARY KEY,
    -- The source's workspace (NULL = a Public source), kept for visibility checks.
    workspace_id bigint,
    day date NOT NULL,
    traffic_source_id bigint NOT NULL REFERENCES traffic_sources (id) ON DELETE CASCADE,
    campaign_id bigint REFERENCES campaigns (id) ON DELETE CASCADE,
    -- Parameter-level spend, e.g. {"sub_source": "site-42"}; {} = none.
    dimensions jsonb NOT NULL DEFAULT '{}',
    amount numeric(18, 6) NOT NULL CHECK (amount >= 0),
    currency char(3) NOT NULL,
    origin text NOT NULL CHECK (origin IN ('manual', 'csv', 'api', 'integration', 'feed')),
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX spend_entries_key ON spend_entries (day, traffic_source_id, coalesce(campaign_id, 0), dimensions);
CREATE INDEX spend_entries_source_day ON spend_entries (traffic_source_id, day);
CREATE INDEX spend_entries_workspace_day ON spend_entries (workspace_id, day);

-- Euro reference rates (ECB style): units of `currency` for one euro on `day`.
CREATE TABLE fx_rates (
    currency char(3) NOT NULL,
    day date NOT NULL,
    rate numeric(20, 10) NOT NULL CHECK (rate > 0),
    source text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (currency, day)
);

-- Units of `currency` per euro on `day`, else the latest earlier rate; 1 for EUR; NULL when
-- there is none.
CREATE FUNCTION waymark_eur_rate(cur text, on_day date) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN cur = 'EUR' THEN 1::numeric
                ELSE (SELECT rate FROM fx_rates WHERE currency = cur AND day <= on_day ORDER BY day DESC LIMIT 1) END
$$;

-- `amount` in `from_cur` converted to `to_cur` at `on_day`'s rates; NULL when a rate is missing.
CREATE FUNCTION waymark_convert(amount numeric, from_cur text, to_cur text, on_day date) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN from_cur = to_cur THEN amount
                ELSE amount / waymark_eur_rate(from_cur, on_day) * waymark_eur_rate(to_cur, on_day) END
$$;

-- Uploaded CSV files between their preview and the user's confirmation, with the progress of
-- the import for the page to show.
CREATE TABLE spend_uploads (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename text NOT NULL DEFAULT '',
    content text NOT NULL,
    rows_total integer NOT NULL DEFAULT 0,
    rows_done integer NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'previewed' CHECK (state IN ('previewed', 'importing', 'imported', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now()
);
