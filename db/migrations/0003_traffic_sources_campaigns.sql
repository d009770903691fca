-- Traffic sources (from a template or custom) and their campaigns.

CREATE TABLE traffic_sources (
    id bigserial PRIMARY KEY,
    -- NULL = Public: every user sees it.
    workspace_id bigint REFERENCES workspaces (id) ON DELETE RESTRICT,
    name text NOT NULL,
    template text,
    cost_currency char(3) NOT NULL DEFAULT 'USD',
    click_id_param text,
    -- [{"name": "campaign_id", "token": "{{campaign.id}}", "slot": 1}, …] in display order;
    -- a name keeps its slot for life, so click rows stay comparable across edits.
    parameters jsonb NOT NULL DEFAULT '[]',
    postback_enabled boolean NOT NULL DEFAULT false,
    postback_url text,
    capi_integration_id bigint,
    notes text NOT NULL DEFAULT '',
    archived_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX traffic_sources_workspace ON traffic_sources (workspace_id);

CREATE TABLE campaigns (
    id bigserial PRIMARY KEY,
    traffic_source_id bigint NOT NULL REFERENCES traffic_sources (id) ON DELETE RESTRICT,
    key text NOT NULL UNIQUE,
    name text NOT NULL,
    destination_url text NOT NULL,
    fallback_url text,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    cost_model text NOT NULL DEFAULT 'none' CHECK (cost_model IN ('none', 'cpc', 'cpm', 'cpa', 'auto')),
    cost_amount numeric(18, 6) NOT NULL DEFAULT 0 CHECK (cost_amount >= 0),
    -- Copied from the source at creation; later edits of the source do not change it.
    currency char(3) NOT NULL,
    -- Stored, regenerated only when the campaign is saved.
    campaign_url text NOT NULL,
    archived_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_source ON campaigns (traffic_source_id);
