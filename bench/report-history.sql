-- A realistic history for the report benchmark (psql variables: clicks, ws = workspace id,
-- prefix = a name prefix): 20 sources, 500 campaigns, :clicks clicks over 90 days, 3 % of them
-- converting, and daily spend per source plus some per campaign. Run again on the same workspace
-- (another prefix) it adds :clicks more clicks to the same campaigns (the growth table).
\set ON_ERROR_STOP on
SELECT waymark_ensure_click_partition((now() AT TIME ZONE 'UTC')::date - d) FROM generate_series(0, 91) AS d;
SELECT CASE WHEN EXISTS (SELECT 1 FROM traffic_sources WHERE workspace_id = :ws) THEN 'false' ELSE 'true' END AS first_run \gset
INSERT INTO traffic_sources (workspace_id, name, cost_currency, parameters)
SELECT :ws, :'prefix' || ' source ' || n, 'USD', '[{"name": "zone", "token": "{zone}", "slot": 1}, {"name": "ad", "token": "{ad}", "slot": 2}]'
FROM generate_series(1, 20) AS n WHERE :first_run;
CREATE TEMP TABLE bench_sources AS
SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM traffic_sources WHERE workspace_id = :ws;
INSERT INTO campaigns (traffic_source_id, key, name, destination_url, cost_model, cost_amount, currency, campaign_url)
SELECT s.id, :'prefix' || '-c' || g.i, 'Campaign ' || g.i, 'https://offer.example/', 'cpc', 0.05 + (g.i % 7) / 100.0, 'USD', ''
FROM generate_series(0, 499) AS g(i) JOIN bench_sources s ON s.n = g.i % 20 WHERE :first_run;
CREATE TEMP TABLE bench_campaigns AS
SELECT c.id, c.traffic_source_id, row_number() OVER (ORDER BY c.id) - 1 AS n
FROM campaigns c JOIN bench_sources s ON s.id = c.traffic_source_id;
CREATE INDEX ON bench_campaigns (n);
WITH k AS (
    INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id, is_bot, is_unique, cost, country, device, p1, p2)
    SELECT :'prefix' || i, now() - (random() * interval '90 days'), c.id, c.traffic_source_id, :ws, random() < 0.03, random() < 0.7,
           0.05, (ARRAY['US', 'DE', 'GB', 'FR', 'BR'])[1 + (i % 5)], (ARRAY['mobile', 'desktop', 'tablet'])[1 + (i % 3)],
           'zone-' || (i % 200), 'ad-' || (i % 50)
    FROM generate_series(1, :clicks) AS i JOIN bench_campaigns c ON c.n = (i::bigint * 7919) % 500
    RETURNING id, clicked_at, campaign_id, traffic_source_id)
INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, dedupe_key, status, payout, currency, converted_at)
SELECT :ws, k.id, k.clicked_at, k.campaign_id, k.traffic_source_id, 'conversion', 'e:conversion',
       (ARRAY['approved', 'approved', 'approved', 'pending', 'declined'])[1 + floor(random() * 5)::int], round((random() * 40)::numeric, 2), 'USD',
       least(now(), k.clicked_at + random() * interval '2 days')
FROM k WHERE random() < 0.03;
INSERT INTO spend_entries (workspace_id, day, traffic_source_id, campaign_id, amount, currency, origin)
SELECT :ws, (now() AT TIME ZONE 'UTC')::date - d, s.id, NULL, round((random() * 500)::numeric, 2), 'USD', 'api'
FROM generate_series(0, 89) AS d CROSS JOIN bench_sources s WHERE :first_run;
INSERT INTO spend_entries (workspace_id, day, traffic_source_id, campaign_id, amount, currency, origin)
SELECT :ws, (now() AT TIME ZONE 'UTC')::date - d, c.traffic_source_id, c.id, round((random() * 50)::numeric, 2), 'USD', 'api'
FROM generate_series(0, 89) AS d CROSS JOIN bench_campaigns c WHERE c.n % 10 = 0 AND :first_run;
ANALYZE clicks; ANALYZE conversions; ANALYZE spend_entries;
SELECT (SELECT id FROM bench_campaigns WHERE n = 0) AS campaign_id;
