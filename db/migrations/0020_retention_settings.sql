-- Data retention in one place (Settings → Retention): days of raw clicks (whole day partitions,
-- with their roll-ups), of unattributed postbacks and of finished deliveries' history.
-- 0 keeps forever. The matching WAYMARK_*_RETENTION_DAYS variables win where set.
CREATE TABLE retention_settings (
    id integer PRIMARY KEY CHECK (id = 1),
    click_days integer NOT NULL DEFAULT 400 CHECK (click_days BETWEEN 0 AND 36500),
    unattributed_days integer NOT NULL DEFAULT 90 CHECK (unattributed_days BETWEEN 0 AND 36500),
    delivery_days integer NOT NULL DEFAULT 90 CHECK (delivery_days BETWEEN 0 AND 36500),
    updated_at timestamptz,
    updated_by text
);
INSERT INTO retention_settings (id) VALUES (1);
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state <> 'pending';
