-- Contacts, their change log and the idempotency record of bulk-apply batches.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is STABLE (its dictionary could change), so it cannot feed a generated
-- column or an index directly. The dictionary is fixed per deployment, so this wrapper
-- is declared IMMUTABLE; the schema-qualified two-argument form keeps it independent of
-- search_path.
CREATE FUNCTION fold_search_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, value));

-- What `q` searches: name, emails, phones (as stored and digits only, so "98765-4321"
-- finds "+5511987654321") and company, folded like the query.
CREATE FUNCTION contact_search_text(name text, emails text[], phones text[], company text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN fold_search_text(
        coalesce(name, '') || ' ' || array_to_string(emails, ' ') || ' '
        || array_to_string(phones, ' ') || ' '
        || regexp_replace(array_to_string(phones, ' '), '[^0-9 ]', '', 'g') || ' '
        || coalesce(company, '')
    );

CREATE FUNCTION lower_text_array(value text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN ARRAY(SELECT lower(item) FROM unnest(value) AS item);

-- One sequence for every account: an id names one contact in the whole system and is
-- never reused (sequences never hand a value out twice, even after a rollback).
CREATE SEQUENCE contact_ids AS bigint;

CREATE TABLE contacts (
    id bigint NOT NULL DEFAULT nextval('contact_ids'),
    account_id bigint NOT NULL REFERENCES accounts (id),
    name text NOT NULL,
    emails text[] NOT NULL DEFAULT '{}',
    phones text[] NOT NULL DEFAULT '{}',
    company text,
    job_title text,
    lifecycle_stage text,
    owner_id bigint REFERENCES users (id),
    legal_entity boolean,
    tags text[] NOT NULL DEFAULT '{}',
    custom_fields jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    search_text text GENERATED ALWAYS AS (contact_search_text(name, emails, phones, company)) STORED,
    -- Every query names the account, and every list page and selection read walks
    -- (account_id, id) in order. There is deliberately no index on `id` alone: the
    -- planner would walk it for `ORDER BY id LIMIT 50` and skip every other account's
    -- rows first. `id` is unique system-wide because only `contact_ids` hands ids out.
    PRIMARY KEY (account_id, id)
);
ALTER SEQUENCE contact_ids OWNED BY contacts.id;

CREATE INDEX contacts_account_owner ON contacts (account_id, owner_id, id);
CREATE INDEX contacts_account_stage ON contacts (account_id, lifecycle_stage, id);
CREATE INDEX contacts_account_updated ON contacts (account_id, updated_at);
CREATE INDEX contacts_account_created ON contacts (account_id, created_at);
CREATE INDEX contacts_tags ON contacts USING gin (tags);
CREATE INDEX contacts_search_text ON contacts USING gin (search_text gin_trgm_ops);
CREATE INDEX contacts_custom_fields ON contacts USING gin (custom_fields jsonb_path_ops);
CREATE INDEX contacts_lower_emails ON contacts USING gin (lower_text_array(emails));

CREATE TABLE contact_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id bigint NOT NULL,
    account_id bigint NOT NULL,
    field text NOT NULL,
    old_value jsonb,
    new_value jsonb,
    changed_at timestamptz NOT NULL DEFAULT now(),
    -- What caused it: `user:<id>`, `token:<id>`, or what the importer says requested it.
    cause text,
    import_id text,
    row_number integer,
    version integer NOT NULL,
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id)
);
CREATE INDEX contact_changes_contact ON contact_changes (contact_id, id);
CREATE INDEX contact_changes_import ON contact_changes (account_id, import_id) WHERE import_id IS NOT NULL;

CREATE TABLE bulk_apply_batches (
    account_id bigint NOT NULL REFERENCES accounts (id),
    idempotency_key text NOT NULL,
    request_sha256 text NOT NULL,
    import_id text,
    outcomes jsonb,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, idempotency_key)
);
