-- An index for decimal and datetime custom values (docs/benchmarks.md, "Contacts
-- service", 5th round). They are stored as given ("10.50", "2026-03-01T09:00:00-03:00")
-- and a filter compares them as numbers and instants (10.5 finds "10.50"), which no index
-- over the stored text serves: a value matching few contacts read the whole account
-- (0.6-1 s at 1M). This column keeps them as JSON numbers, datetimes as seconds since the
-- Unix epoch; jsonb containment compares numbers numerically, and the GIN index hashes
-- equal numbers alike whatever their trailing zeros.
--
-- At 1.1M contacts this migration took 142 s on the 2-vCPU development box (the UPDATE
-- rewrites every contact with a decimal or datetime value, and each index gets the new
-- row version), during which contacts can be neither read nor written.
--
-- The writers fill it from the account's field definitions (custom_field_rules.py,
-- `custom_field_numbers`: contact_writes.py and the demo seed). A row written by other
-- SQL (or an older replica) keeps '{}' and is not found by such a filter: see
-- docs/operations.md for the upgrade and for the statement that puts the numbers right.
ALTER TABLE contacts ADD COLUMN custom_field_numbers jsonb NOT NULL DEFAULT '{}';

-- The same mapping in SQL, for the rows written before this migration. Kept after it: a
-- test holds it equal to the Python one, and an operator can recheck a table with it.
-- `number_fields`: key -> 'decimal' | 'datetime'. Like the Python one, it leaves out a
-- value not in its type's canonical form (what `_decimal` and `_datetime` store: a demo
-- seed writes its own types' values under its keys, whatever the account defined) or
-- beyond numeric's digits (older decimals had no limit), rather than fail (a datetime of
-- the right shape on no such day would fail here, where Python leaves it out: no writer
-- stores one). A stored
-- datetime is Python's isoformat, whose offset may have seconds and fractions and reach
-- ±23:59:59, which timestamptz input refuses: the offset is subtracted as an interval
-- from the local time instead.
CREATE FUNCTION contact_custom_field_numbers(custom_fields jsonb, number_fields jsonb) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(jsonb_object_agg(
        f.key,
        CASE f.type
            WHEN 'decimal' THEN v.text::numeric
            ELSE extract(epoch FROM substr(v.text, 1, v.offset_at - 1)::timestamp - substr(v.text, v.offset_at)::interval)
        END), '{}')
    FROM jsonb_each_text(number_fields) AS f(key, type)
    CROSS JOIN LATERAL (
        SELECT custom_fields ->> f.key AS text,
               CASE WHEN substr(custom_fields ->> f.key, 20, 1) = '.' THEN 27 ELSE 20 END AS offset_at
    ) AS v
    WHERE jsonb_typeof(custom_fields -> f.key) = 'string'
      AND CASE f.type
            WHEN 'decimal' THEN
                v.text ~ '^-?[0-9]+(\.[0-9]+)?$'
                AND length(split_part(ltrim(v.text, '-'), '.', 1)) <= 131072
                AND length(split_part(v.text, '.', 2)) <= 16383
            ELSE
                v.text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{6})?)?$'
          END
$$;

UPDATE contacts AS c
SET custom_field_numbers = contact_custom_field_numbers(c.custom_fields, d.number_fields)
FROM (
    SELECT account_id, jsonb_object_agg(key, type) AS number_fields, array_agg(key) AS keys
    FROM custom_field_definitions
    WHERE type IN ('decimal', 'datetime')
    GROUP BY account_id
) AS d
WHERE c.account_id = d.account_id AND c.custom_fields ?| d.keys;

CREATE INDEX contacts_custom_field_numbers ON contacts USING gin (custom_field_numbers jsonb_path_ops);
