-- Campaign-level conversion reporting: `source` (as the traffic source, the default),
-- `postback` (the campaign's own S2S URL), `capi` (a Conversion-API integration it picks) or
-- `none`; with its own send-back rules when it does not inherit.
ALTER TABLE campaigns
    ADD COLUMN reporting text NOT NULL DEFAULT 'source' CHECK (reporting IN ('source', 'postback', 'capi', 'none')),
    ADD COLUMN reporting_postback_url text,
    ADD COLUMN reporting_integration_id bigint REFERENCES integrations (id) ON DELETE SET NULL,
    ADD COLUMN reporting_send text NOT NULL DEFAULT 'all' CHECK (reporting_send IN ('all', 'approved', 'first')),
    ADD COLUMN reporting_payout_percent numeric(7, 3) NOT NULL DEFAULT 100 CHECK (reporting_payout_percent BETWEEN 0 AND 1000),
    ADD COLUMN reporting_events text[] NOT NULL DEFAULT '{}',
    ADD COLUMN reporting_reversals boolean NOT NULL DEFAULT false;
