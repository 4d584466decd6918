CREATE TABLE imports (
    import_id uuid PRIMARY KEY,
    account_id bigint NOT NULL,
    requested_by text NOT NULL,
    file_name text NOT NULL,
    object_key text NOT NULL,
    size_bytes bigint NOT NULL,
    state text NOT NULL DEFAULT 'uploaded' CHECK (state IN (
        'uploaded', 'prepared', 'validating', 'validated', 'running',
        'completed', 'completed_with_errors', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The Imports page: an account's imports, newest first.
CREATE INDEX imports_account_newest ON imports (account_id, created_at DESC, import_id);
