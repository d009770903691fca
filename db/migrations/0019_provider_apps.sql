-- Provider apps entered by an owner on Settings → Provider apps (docs/integrations.md): the
-- OAuth app of Google Ads, Meta and TikTok, its secret (and Google's developer token) sealed
-- with the installation's key like integration tokens. WAYMARK_* environment variables win.
CREATE TABLE provider_apps (
    provider text PRIMARY KEY CHECK (provider IN ('google_ads', 'meta', 'tiktok')),
    app_id text NOT NULL CHECK (length(app_id) BETWEEN 1 AND 200),
    secret_sealed text NOT NULL,
    developer_token_sealed text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL
);
