-- Filtered pages at 1M contacts (docs/benchmarks.md, "Contacts service"). At 1M rows
-- this migration takes ~50 s, during which contacts cannot be written.

-- `q` and custom-field conditions in one GIN index. Separately, a filter such as
-- q="padaria goias" + segmento=Agronegócio ANDed two bitmaps: ~9k rows from the trigrams
-- and ~184k from the jsonb index (a select option matches a sixth of the account), and
-- building the large one cost more (25-37 ms) than the heap pages it saved. In one
-- multicolumn GIN index the scan intersects every key itself, skipping through the long
-- posting lists (measured: 55-63 ms -> 23-26 ms p50; "silva" + a rare number 11 -> 2 ms).
-- Either column alone is still served by this index, as before. `tags` stays apart: with
-- it in here the stage + owner + tag + q page got slower (9 -> 23 ms).
CREATE INDEX contacts_search_text_custom_fields ON contacts
    USING gin (search_text gin_trgm_ops, custom_fields jsonb_path_ops);
DROP INDEX contacts_search_text;
DROP INDEX contacts_custom_fields;

-- The smallest id created in a date range, for the filter builder's bound on the id walk
-- (contact_filter.py, `_add_date_range`): `ORDER BY id <-> 0 LIMIT 1` on this index
-- skips every subtree whose created_at is out of range, ~1 ms whatever the range (the
-- btree on (account_id, created_at) has to read every row in range: 970k for "all but
-- the first weeks"). btree_gist provides the GiST operator classes and `<->` for bigint.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX contacts_account_id_created ON contacts USING gist (account_id, id, created_at);

-- The same bound for updated_at, read from this index alone when few rows are in range.
CREATE INDEX contacts_account_updated_id ON contacts (account_id, updated_at, id);
DROP INDEX contacts_account_updated;

-- Index builds a large seed into an empty table left for after its load (seeding.py):
-- each row is deleted in the transaction that builds its index, so a seed interrupted
-- between the two leaves here exactly what is still to build.
CREATE TABLE contacts_deferred_indexes (
    name text PRIMARY KEY,
    definition text NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);
