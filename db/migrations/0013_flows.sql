-- Issue 18: offers, landers and flows (SPEC section 9), a campaign's flow, and what a click
-- sent through a flow keeps (its flow, path, lander and offer).

-- The advertiser's page. NULL workspace = Public, as for traffic sources.
CREATE TABLE offers (
    id bigserial PRIMARY KEY,
    workspace_id bigint REFERENCES workspaces (id) ON DELETE RESTRICT,
    name text NOT NULL,
    url text NOT NULL,
    -- A conversion's payout when its postback brings none, in `currency`.
    payout numeric(18, 6) NOT NULL DEFAULT 0 CHECK (payout >= 0),
    currency char(3) NOT NULL DEFAULT 'USD',
    affiliate_network text,
    -- Conversions per day in the workspace's zone; NULL = no cap.
    daily_cap integer CHECK (daily_cap IS NULL OR daily_cap >= 1),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    archived_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_workspace ON offers (workspace_id);

-- A page between the ad and the offer; its links go to /click … /click/{offers_count}.
CREATE TABLE landers (
    id bigserial PRIMARY KEY,
    workspace_id bigint REFERENCES workspaces (id) ON DELETE RESTRICT,
    name text NOT NULL,
    url text NOT NULL,
    offers_count integer NOT NULL DEFAULT 1 CHECK (offers_count BETWEEN 1 AND 20),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    archived_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX landers_workspace ON landers (workspace_id);

-- Where a campaign's clicks go. `paths` is `[FlowPath]` as Catalog's Codable writes it:
-- [{"name", "rules": [{"field", "op", "values"}], "landers": [{"id", "weight"}], "offers": [{"id", "weight"}]}].
CREATE TABLE flows (
    id bigserial PRIMARY KEY,
    workspace_id bigint REFERENCES workspaces (id) ON DELETE RESTRICT,
    name text NOT NULL,
    paths jsonb NOT NULL DEFAULT '[]',
    archived_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flows_workspace ON flows (workspace_id);
-- "Which flows use offer 7 / lander 3" (a delete's 409) is a containment query.
CREATE INDEX flows_paths ON flows USING gin (paths jsonb_path_ops);

-- A campaign sends its clicks to its destination URL, or through its flow when it has one.
ALTER TABLE campaigns ADD COLUMN flow_id bigint REFERENCES flows (id) ON DELETE RESTRICT;
CREATE INDEX campaigns_flow ON campaigns (flow_id) WHERE flow_id IS NOT NULL;

-- A click through a flow: the flow, the path's index (0-based), the lander, and the offer once
-- drawn. Added to the partitioned parent, so every partition, present and future, has them.
ALTER TABLE clicks
    ADD COLUMN flow_id bigint,
    ADD COLUMN flow_path smallint,
    ADD COLUMN lander_id bigint,
    ADD COLUMN offer_id bigint;

-- The campaign cache holds flows, landers and offers too: any change reloads it.
CREATE TRIGGER offers_changed AFTER INSERT OR UPDATE OR DELETE ON offers
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_campaigns();
CREATE TRIGGER landers_changed AFTER INSERT OR UPDATE OR DELETE ON landers
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_campaigns();
CREATE TRIGGER flows_changed AFTER INSERT OR UPDATE OR DELETE ON flows
    FOR EACH STATEMENT EXECUTE FUNCTION waymark_notify_campaigns();
