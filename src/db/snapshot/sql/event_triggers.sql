-- Event triggers (database-wide), without those of the event log of partial snapshots
-- (event_log.sql).
SELECT 'event-trigger', quote_ident(e.evtname),
       ARRAY['event', e.evtevent::text,
             'function', e.evtfoid::regprocedure::text,
             'tags', array_to_string(e.evttags, ', '),
             'enabled', CASE e.evtenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                                          WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'g'
FROM pg_event_trigger e
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_event_trigger'::regclass AND d.objoid = e.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE NOT EXISTS (
    SELECT 1 FROM pg_depend x
    WHERE x.classid = 'pg_event_trigger'::regclass AND x.objid = e.oid AND x.deptype = 'e')
  AND e.evtname NOT IN ('_packit_db_command', '_packit_db_drop')
