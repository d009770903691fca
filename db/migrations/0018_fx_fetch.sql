-- The worker's daily fetch of the ECB's euro reference rates (docs/operations.md, "FX rates"):
-- one row; a worker claims the fetch by moving claimed_at (so two workers never fetch at once)
-- and records the outcome. `requested_at` is an admin's "Fetch now".
CREATE TABLE fx_fetch (
    id integer PRIMARY KEY CHECK (id = 1),
    claimed_at timestamptz,
    last_attempt_at timestamptz,
    last_success_at timestamptz,
    last_url text,
    last_error text,
    rates_stored integer NOT NULL DEFAULT 0,
    requested_at timestamptz
);
INSERT INTO fx_fetch (id) VALUES (1);
