-- Issue 18: lander click-throughs (SPEC section 3, `/click`) and the offer a conversion is
-- attributed to.

-- One row per click that went on from its lander to an offer: counted once (the primary key;
-- a repeat or a replayed spool record is dropped by ON CONFLICT DO NOTHING). It carries what
-- reports need of its click (time, campaign, flow, path, lander, flags, cost) so it can be
-- counted without reading the click, and so the click's roll-up row can move from "lander,
-- no offer yet" to "lander, this offer".
CREATE TABLE lander_clicks (
    click_id text PRIMARY KEY,
    -- The click's time: reports put the click-through on its click (attribution=click).
    clicked_at timestamptz NOT NULL,
    through_at timestamptz NOT NULL,
    campaign_id bigint NOT NULL,
    traffic_source_id bigint NOT NULL,
    workspace_id bigint,
    flow_id bigint NOT NULL,
    flow_path smallint NOT NULL,
    lander_id bigint NOT NULL,
    offer_id bigint NOT NULL,
    -- The click's own flags and cost, as stored on the click.
    cost numeric(18, 6) NOT NULL DEFAULT 0,
    is_bot boolean NOT NULL DEFAULT false,
    is_unique boolean NOT NULL DEFAULT false,
    destination text NOT NULL DEFAULT ''
);
CREATE INDEX lander_clicks_campaign_time ON lander_clicks (campaign_id, clicked_at);
CREATE INDEX lander_clicks_clicked_at ON lander_clicks (clicked_at);

-- A conversion keeps the flow, path, lander and offer of its click (the offer drawn at the
-- click, else at its click-through), so reports by offer need no join.
ALTER TABLE conversions
    ADD COLUMN flow_id bigint,
    ADD COLUMN flow_path smallint,
    ADD COLUMN lander_id bigint,
    ADD COLUMN offer_id bigint;
CREATE INDEX conversions_offer_time ON conversions (offer_id, converted_at) WHERE offer_id IS NOT NULL;

-- Offers' daily caps are counted in the responders' memory: a conversion with an offer (or a
-- change of its status) tells them to count again.
CREATE FUNCTION waymark_notify_offer_caps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('waymark_offer_caps', '');
    RETURN NULL;
END $$;
-- Row-level with WHEN: only conversions of an offer wake the responders (notifications of one
-- transaction are folded into one by PostgreSQL).
CREATE TRIGGER conversions_offer_caps AFTER INSERT OR UPDATE OF status ON conversions
    FOR EACH ROW WHEN (NEW.offer_id IS NOT NULL) EXECUTE FUNCTION waymark_notify_offer_caps();
