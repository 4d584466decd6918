-- Tenants and what belongs to an account but is not a contact: API tokens, users (the
-- possible owners, "Responsável"), lifecycle stages and custom field definitions.

CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (btrim(name) <> ''),
    locale text NOT NULL DEFAULT 'pt-BR',
    timezone text NOT NULL DEFAULT 'America/Sao_Paulo',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    name text NOT NULL,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_account_email ON users (account_id, lower(email));

-- Only the SHA-256 of a token is kept: a leaked table does not leak working tokens.
CREATE TABLE api_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    token_sha256 text NOT NULL UNIQUE,
    label text,
    user_id bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE lifecycle_stages (
    account_id bigint NOT NULL REFERENCES accounts (id),
    key text NOT NULL CHECK (key ~ '^[a-z0-9_]+$'),
    name text NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (account_id, key)
);

CREATE TABLE custom_field_definitions (
    account_id bigint NOT NULL REFERENCES accounts (id),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    label text NOT NULL,
    type text NOT NULL,
    options jsonb NOT NULL DEFAULT '[]',
    required boolean NOT NULL DEFAULT false,
    position integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);
