-- The rows of the event-log change marker only (see events.sql): the number of pg_class user rows,
-- the dropped objects, and the commands it cannot follow.
UNION ALL
SELECT 'count', 'pg_class', r.n::text, NULL, NULL FROM relations r
UNION ALL
SELECT DISTINCT 'dropped', l.classid::regclass::text, l.objid::text,
       CASE WHEN l.objsubid <> 0 THEN 'column' END, NULL::text[]
FROM log l
WHERE l.dropped AND l.classid IS NOT NULL
UNION ALL
SELECT DISTINCT 'full', CASE WHEN l.classid IS NULL THEN l.command || ' (objects not reported)'
                             WHEN l.classid = 'pg_namespace'::regclass THEN 'schemas'
                             ELSE l.command || ' on ' || l.classid::regclass::text END,
       NULL, NULL, NULL::text[]
FROM log l
WHERE l.classid IS NULL OR l.classid NOT IN (SELECT f.classid FROM followed f)
UNION ALL
-- PostgreSQL 17 can turn event triggers off for a session.
SELECT 'full', 'event triggers are off', NULL, NULL, NULL
WHERE current_setting('event_triggers', true) = 'off'
