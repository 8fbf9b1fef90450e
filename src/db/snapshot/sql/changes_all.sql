-- The change marker's baseline: every user row counts as changed (age() of a frozen or any other
-- transaction ID is at most 2^31 - 1). Followed by changes.sql.
WITH
h AS (SELECT 2147483647 AS bound),
