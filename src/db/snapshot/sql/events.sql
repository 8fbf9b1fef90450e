-- The change marker from the event log (event_log.sql): what DDL commands reported since the
-- previous marker, which it removes from the log. $1 is the horizon, as in changes_since.sql.
-- Followed by changes_units.sql and events_tail.sql.
--
-- Event triggers see what a command names, not what it does to other objects on the side (ALTER
-- TABLE ... DROP IDENTITY drops the sequence internally, DETACH PARTITION changes the partition),
-- and those all write pg_class rows: its user rows are also read as in changes.sql, their versions
-- and their number. The other catalogs are only read through the objects the log names, so the
-- cost follows the change, where changes.sql reads every user row of a dozen catalogs.
--
-- Rows as in changes.sql ('count' only for pg_class), plus
--   'dropped' an object a command dropped: its catalog and key; unit 'column' when it was a
--             column (the key is then its relation's), NULL otherwise. The caller knows the unit
--             from the keys it saw (the catalog rows are gone).
-- A command that reports no object (GRANT, REVOKE) or an object of a catalog that is not followed
-- object by object gives a 'full' row.
WITH
h AS (SELECT age(($1::int8 % 4294967296)::text::xid) AS bound),
-- pg_class's user rows, read once: how many there are, and those written since the horizon.
relations AS MATERIALIZED (
    SELECT count(*) AS n,
           coalesce(array_agg(c.oid) FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)),
                    '{}') AS fresh
    FROM pg_class c WHERE c.oid >= 16384
),
log AS MATERIALIZED (
    DELETE FROM _packit_db_events.log
    RETURNING classid, objid, objsubid, dropped, command
),
-- The catalogs events are followed in, as changes.sql's `changed` has them; a schema is not one
-- (a rename changes every qualified name).
followed (classid) AS (
    VALUES ('pg_class'::regclass), ('pg_type'::regclass), ('pg_proc'::regclass),
           ('pg_constraint'::regclass), ('pg_trigger'::regclass), ('pg_policy'::regclass),
           ('pg_rewrite'::regclass), ('pg_statistic_ext'::regclass), ('pg_attrdef'::regclass),
           ('pg_extension'::regclass)
),
-- Objects created or altered and still there (one created and dropped again since the previous
-- marker left nothing behind: its drop is in the log too, and it is in no snapshot), and the
-- pg_class rows written since the horizon.
changed AS (
    SELECT DISTINCT x.cat, x.key, x.classid, x.objid
    FROM (
        SELECT l.classid::regclass::text AS cat, l.objid::text AS key, l.classid, l.objid
        FROM log l
        WHERE NOT l.dropped AND l.classid IN (SELECT f.classid FROM followed f)
          AND NOT EXISTS (SELECT 1 FROM log d
                          WHERE d.dropped AND d.classid = l.classid AND d.objid = l.objid
                            AND d.objsubid = 0)
        UNION ALL
        SELECT 'pg_class', f.oid::text, 'pg_class'::regclass::oid, f.oid
        FROM relations r, unnest(r.fresh) AS f(oid)
    ) x
),
