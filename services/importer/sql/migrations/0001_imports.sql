-- The importer's own state: jobs, their validation feedback, the planned changes, the
-- outcome of every applied row, and the mappings accounts confirmed before.

CREATE TABLE imports (
    import_id uuid PRIMARY KEY,
    account_id bigint NOT NULL,
    requested_by text NOT NULL,
    -- As uploaded, sanitised for display only: the object key never derives from it.
    file_name text NOT NULL,
    object_key text NOT NULL,
    size_bytes bigint NOT NULL,
    -- The uploader's language, for the messages of events that have no reader.
    locale text NOT NULL DEFAULT 'pt-BR',
    state text NOT NULL DEFAULT 'uploaded' CHECK (state IN (
        'uploaded', 'prepared', 'validating', 'validated', 'running',
        'completed', 'completed_with_errors', 'failed')),

    -- What prepare found in the file.
    file_format text,
    sheet_name text,
    sheet_names jsonb NOT NULL DEFAULT '[]',
    header jsonb NOT NULL DEFAULT '[]',
    header_signature text,
    sheet_locale text,
    row_count bigint,
    -- [{index, header, letter, suggested_field, source}], in sheet order.
    columns jsonb NOT NULL DEFAULT '[]',
    mapping_feedback jsonb NOT NULL DEFAULT '[]',

    -- What the user confirmed. Each confirm bumps the version; a validate command for
    -- an older version is stale and ignored.
    confirm_version integer NOT NULL DEFAULT 0,
    confirmed_columns jsonb,            -- {"<column index>": "<field key>"}
    write_fields jsonb,                 -- field keys start writes, in column order
    tag text,
    options jsonb,
    validation_attempt integer NOT NULL DEFAULT 0,

    -- Validation results.
    rows_total bigint,
    errors bigint,
    warnings bigint,
    rows_with_errors bigint,
    to_create bigint,
    to_update bigint,
    unchanged bigint,
    conflicts_skipped bigint,
    field_changes jsonb,
    ready_to_start boolean NOT NULL DEFAULT false,

    -- The run. Whoever holds an unexpired lease applies the batches; a run whose owner
    -- stopped renewing it (killed) is taken over and continues at `batches_done`.
    run_attempt integer NOT NULL DEFAULT 0,
    owner text,
    lease_until timestamptz,
    batches_total integer,
    batches_done integer NOT NULL DEFAULT 0,
    rows_done bigint NOT NULL DEFAULT 0,
    applied_created bigint NOT NULL DEFAULT 0,
    applied_updated bigint NOT NULL DEFAULT 0,
    applied_unchanged bigint NOT NULL DEFAULT 0,
    applied_skipped bigint NOT NULL DEFAULT 0,
    applied_failed bigint NOT NULL DEFAULT 0,

    error_code text,
    error_message text,
    error_row integer,
    error_column text,

    -- Outcome events are published once: these say which were.
    prepared_published boolean NOT NULL DEFAULT false,
    validated_published boolean NOT NULL DEFAULT false,
    outcome_published boolean NOT NULL DEFAULT false,

    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    validated_at timestamptz,
    started_at timestamptz,
    finished_at timestamptz
);

-- The Imports page: an account's imports, newest first.
CREATE INDEX imports_account_newest ON imports (account_id, created_at DESC, import_id DESC);
-- Runs to take over after their owner died.
CREATE INDEX imports_running_lease ON imports (lease_until) WHERE state = 'running';

CREATE TABLE import_feedback (
    import_id uuid NOT NULL REFERENCES imports (import_id) ON DELETE CASCADE,
    seq integer NOT NULL,
    -- As the spreadsheet shows it; NULL for the file as a whole (sorted first).
    row_number integer,
    severity text NOT NULL CHECK (severity IN ('error', 'warning')),
    code text NOT NULL,
    column_letter text,
    header text,
    field_key text,
    value text,
    -- JSON as text: COPY's binary protocol has no encoder for jsonb, and it is never queried.
    params text NOT NULL DEFAULT '{}',
    PRIMARY KEY (import_id, seq)
);
-- Pages of feedback in sheet order, file-level items first.
CREATE INDEX import_feedback_order ON import_feedback (import_id, (coalesce(row_number, 0)), seq);

-- One row per sheet row that start will write. `batch_no` is assigned once, when the
-- run begins, so that a resumed run sends the very same batches (bulk apply is
-- idempotent per `<import_id>:<batch_no>`).
CREATE TABLE import_plan (
    import_id uuid NOT NULL REFERENCES imports (import_id) ON DELETE CASCADE,
    row_number integer NOT NULL,
    action text NOT NULL CHECK (action IN ('create', 'update')),
    contact_id bigint,
    "values" text NOT NULL,           -- JSON (as text, for COPY): field key → canonical value
    expected_updated_at timestamptz,
    has_error boolean NOT NULL DEFAULT false,
    batch_no integer,
    PRIMARY KEY (import_id, row_number)
);
CREATE INDEX import_plan_batch ON import_plan (import_id, batch_no, row_number) WHERE batch_no IS NOT NULL;

-- The result report: per applied row, what happened.
CREATE TABLE import_row_outcomes (
    import_id uuid NOT NULL REFERENCES imports (import_id) ON DELETE CASCADE,
    row_number integer NOT NULL,
    batch_no integer NOT NULL,
    outcome text NOT NULL,
    contact_id bigint,
    changed_fields text[] NOT NULL DEFAULT '{}',
    reason text,
    PRIMARY KEY (import_id, row_number)
);

-- "A mapping that a user confirmed for a set of headers is remembered per account."
CREATE TABLE remembered_mappings (
    account_id bigint NOT NULL,
    header_signature text NOT NULL,
    field_keys jsonb NOT NULL,          -- per column: field key or null
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, header_signature)
);
