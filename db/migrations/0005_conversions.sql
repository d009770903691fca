-- Conversions: postbacks matched to clicks, the ledger of everything received, and the
-- outbox of everything sent (S2S postbacks, webhooks) with each try.

-- What a traffic source's S2S postback reports back: all | approved | first (per click);
-- a payout share; event keys (empty = all); declines of sent conversions as reversals.
ALTER TABLE traffic_sources
    ADD COLUMN postback_send text NOT NULL DEFAULT 'all' CHECK (postback_send IN ('all', 'approved', 'first')),
    ADD COLUMN postback_payout_percent numeric(7, 3) NOT NULL DEFAULT 100 CHECK (postback_payout_percent BETWEEN 0 AND 1000),
    ADD COLUMN postback_events text[] NOT NULL DEFAULT '{}',
    ADD COLUMN postback_reversals boolean NOT NULL DEFAULT false;

-- Event keys per workspace (NULL = Public sources' conversions); unknown keys arriving by
-- postback are created.
CREATE TABLE conversion_events (
    id bigserial PRIMARY KEY,
    workspace_id bigint REFERENCES workspaces (id) ON DELETE CASCADE,
    key text NOT NULL,
    name text NOT NULL,
    counts_as_conversion boolean NOT NULL DEFAULT true,
    counts_as_revenue boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX conversion_events_key ON conversion_events (coalesce(workspace_id, 0), key);

CREATE TABLE conversions (
    id bigserial PRIMARY KEY,
    workspace_id bigint,
    click_id text NOT NULL,
    clicked_at timestamptz NOT NULL,
    campaign_id bigint NOT NULL,
    traffic_source_id bigint NOT NULL,
    event_key text NOT NULL,
    txid text,
    -- 't:' || txid, else 'e:' || event: one conversion per click and key (docs/tracking.md).
    dedupe_key text NOT NULL,
    status text NOT NULL CHECK (status IN ('approved', 'pending', 'declined')),
    -- As received: the original currency and amount.
    payout numeric(18, 6) NOT NULL CHECK (payout >= 0),
    currency char(3) NOT NULL,
    converted_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (click_id, dedupe_key)
);
CREATE INDEX conversions_campaign_time ON conversions (campaign_id, converted_at);
CREATE INDEX conversions_workspace_time ON conversions (workspace_id, converted_at);
CREATE INDEX conversions_click_time ON conversions (clicked_at);

-- Every postback and pixel hit, as received, with what it did.
CREATE TABLE postbacks (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    channel text NOT NULL CHECK (channel IN ('postback', 'pixel', 'tester', 'attach')),
    method text NOT NULL,
    query text NOT NULL DEFAULT '',
    body text NOT NULL DEFAULT '',
    content_type text NOT NULL DEFAULT '',
    source_ip text NOT NULL DEFAULT '',
    click_id text,
    workspace_id bigint,
    -- Parsed fields, kept so an unattributed postback can be attached later.
    event_key text,
    txid text,
    status text,
    payout numeric(18, 6),
    currency char(3),
    outcome text NOT NULL CHECK (outcome IN ('recorded', 'duplicate', 'updated', 'unattributed', 'invalid', 'forbidden', 'attached')),
    error text,
    conversion_id bigint REFERENCES conversions (id) ON DELETE SET NULL
);
CREATE INDEX postbacks_click ON postbacks (click_id);
CREATE INDEX postbacks_unattributed ON postbacks (received_at) WHERE outcome = 'unattributed';
CREATE INDEX postbacks_conversion ON postbacks (conversion_id);

CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url text NOT NULL,
    secret text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id);

-- The outbox: one row per call to make, rendered when queued (a later change of the source
-- does not alter what was queued). The worker claims rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE deliveries (
    id bigserial PRIMARY KEY,
    workspace_id bigint,
    conversion_id bigint REFERENCES conversions (id) ON DELETE CASCADE,
    click_id text,
    kind text NOT NULL CHECK (kind IN ('postback', 'webhook', 'capi')),
    target_id bigint,
    target_name text NOT NULL DEFAULT '',
    method text NOT NULL DEFAULT 'GET',
    url text NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    body text,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_conversion ON deliveries (conversion_id);
CREATE INDEX deliveries_click ON deliveries (click_id);
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE state = 'failed';

CREATE TABLE delivery_attempts (
    id bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL,
    http_status integer,
    response_excerpt text,
    error text,
    worker_id text NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);

-- Wakes the workers when something is queued.
CREATE FUNCTION waymark_notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('waymark_deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_queued AFTER INSERT OR UPDATE OF next_attempt_at ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_deliveries();
