-- Integrations (docs/integrations.md): one per (traffic source, provider). Tokens and secrets are AES-GCM
-- sealed by the application (IntegrationSecrets) before they reach this table.

CREATE TABLE integrations (
    id bigserial PRIMARY KEY,
    traffic_source_id bigint NOT NULL REFERENCES traffic_sources (id) ON DELETE CASCADE,
    workspace_id bigint,
    provider text NOT NULL CHECK (provider IN ('google_ads', 'meta', 'tiktok', 'ga4')),
    status text NOT NULL DEFAULT 'not_connected'
        CHECK (status IN ('not_connected', 'pending_account_selection', 'active', 'paused', 'error')),
    -- Sealed secrets: base64 of AES-GCM nonce ‖ ciphertext ‖ tag; NULL when not held.
    access_token text,
    refresh_token text,
    api_secret text,
    token_expires_at timestamptz,
    -- Accounts offered by the provider after authorization: [{id, name, currency, time_zone}].
    accounts jsonb NOT NULL DEFAULT '[]',
    account_id text,
    account_name text,
    account_currency char(3),
    account_time_zone text,
    -- Provider settings: Meta pixel (dataset) id, TikTok pixel code, GA4 measurement id,
    -- Google login-customer-id and conversion upload API.
    settings jsonb NOT NULL DEFAULT '{}',
    sync_direction text NOT NULL DEFAULT 'bidirectional' CHECK (sync_direction IN ('pull', 'push', 'bidirectional')),
    sync_interval_minutes integer NOT NULL DEFAULT 60 CHECK (sync_interval_minutes BETWEEN 5 AND 1440),
    lookback_days integer NOT NULL DEFAULT 3 CHECK (lookback_days BETWEEN 0 AND 30),
    -- The click parameter carrying the platform's campaign id (spend is matched through it).
    campaign_param text NOT NULL DEFAULT 'campaign_id',
    next_sync_at timestamptz,
    full_sync_requested boolean NOT NULL DEFAULT false,
    last_sync_at timestamptz,
    last_success_at timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error text,
    connected_by bigint REFERENCES users (id) ON DELETE SET NULL,
    connected_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (traffic_source_id, provider)
);
CREATE INDEX integrations_due ON integrations (next_sync_at) WHERE status = 'active';

ALTER TABLE traffic_sources
    ADD CONSTRAINT traffic_sources_capi_integration FOREIGN KEY (capi_integration_id) REFERENCES integrations (id) ON DELETE SET NULL;

-- An OAuth authorization in flight: the `state` sent to the provider, bound to the admin's
-- session, with the PKCE verifier. Single use; ten minutes.
CREATE TABLE oauth_states (
    state text PRIMARY KEY,
    session_hash text NOT NULL,
    integration_id bigint NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    code_verifier text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every sync attempt: pull (scheduled or now), full pull, connection test.
CREATE TABLE integration_syncs (
    id bigserial PRIMARY KEY,
    integration_id bigint NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('pull', 'full_pull', 'test', 'accounts')),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'partial', 'failed')),
    window_from date,
    window_to date,
    records_read integer NOT NULL DEFAULT 0,
    records_written integer NOT NULL DEFAULT 0,
    error text
);
CREATE INDEX integration_syncs_integration ON integration_syncs (integration_id, started_at DESC);

-- Pulled metrics by day and level; a re-pull of a window replaces its rows.
CREATE TABLE integration_metrics (
    integration_id bigint NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    day date NOT NULL,
    level text NOT NULL CHECK (level IN ('campaign', 'ad_group', 'ad', 'keyword')),
    campaign_id text NOT NULL,
    campaign_name text NOT NULL DEFAULT '',
    ad_group_id text NOT NULL DEFAULT '',
    ad_group_name text NOT NULL DEFAULT '',
    ad_id text NOT NULL DEFAULT '',
    ad_name text NOT NULL DEFAULT '',
    keyword text NOT NULL DEFAULT '',
    impressions bigint NOT NULL DEFAULT 0,
    clicks bigint NOT NULL DEFAULT 0,
    cost numeric(18, 6) NOT NULL DEFAULT 0,
    currency char(3) NOT NULL,
    pulled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, day, level, campaign_id, ad_group_id, ad_id, keyword)
);

-- Which Waymark events are pushed, as which provider conversion action / event name.
CREATE TABLE conversion_mappings (
    id bigserial PRIMARY KEY,
    integration_id bigint NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    event_key text NOT NULL,
    provider_action text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    UNIQUE (integration_id, event_key)
);

-- Imported spend carries the platform's impressions and clicks where an integration pulled them.
ALTER TABLE spend_entries
    ADD COLUMN impressions bigint,
    ADD COLUMN integration_id bigint REFERENCES integrations (id) ON DELETE SET NULL;

-- A Conversion-API push too old for the provider's window is not sent, but marked.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed', 'skipped'));
