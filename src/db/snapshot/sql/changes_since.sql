-- The change marker since a horizon: $1 is the first transaction ID not yet assigned when the
-- previous marker ran (`pg_snapshot_xmax`, as a 64-bit number). Followed by changes.sql.
WITH
h AS (SELECT age(($1::int8 % 4294967296)::text::xid) AS bound),
