CREATE TABLE exports (
    export_id uuid PRIMARY KEY,
    account_id bigint NOT NULL,
    requested_by text NOT NULL,
    format text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    locale text NOT NULL DEFAULT 'pt-BR',
    selection jsonb NOT NULL,
    fields jsonb,
    state text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'running', 'ready', 'failed')),
    -- Each run that claims the job gets the next attempt number; only the holder of the
    -- latest one may finish it, so a stale run (e.g. after a consumer-group rebalance)
    -- can neither mark it ready nor announce it.
    attempt integer NOT NULL DEFAULT 0,
    row_count bigint,
    file_name text,
    bucket text,
    object_key text,
    size_bytes bigint,
    download_url text,
    download_expires_at timestamptz,
    error_code text,
    error_message text,
    -- The outcome event (ready or failed) was published: a redelivered request whose
    -- outcome was recorded but not announced announces it, once.
    outcome_published boolean NOT NULL DEFAULT false,
    requested_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The Exports page: an account's exports, newest first.
CREATE INDEX exports_account_newest ON exports (account_id, requested_at DESC, export_id DESC);
