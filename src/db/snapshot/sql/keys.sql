-- Every key of the user rows of the catalogs whose rows can vanish alone, in the change marker's
-- row form (see changes.sql): read after the marker's counts show deleted rows.
SELECT 'keys'::text AS kind, k.cat, NULL::text AS key, NULL::text AS unit, k.keys
FROM (
    SELECT 'pg_namespace'::text AS cat, array_agg(oid::text) AS keys FROM pg_namespace
    UNION ALL
    SELECT 'pg_class', array_agg(oid::text) FROM pg_class WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_type', array_agg(oid::text) FROM pg_type WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_proc', array_agg(oid::text) FROM pg_proc WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_constraint', array_agg(oid::text) FROM pg_constraint WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_trigger', array_agg(oid::text) FROM pg_trigger WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_policy', array_agg(oid::text) FROM pg_policy WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_rewrite', array_agg(oid::text) FROM pg_rewrite WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_statistic_ext', array_agg(oid::text) FROM pg_statistic_ext WHERE oid >= 16384
    UNION ALL
    SELECT 'pg_description', array_agg(d.objoid || '/' || d.classoid || '/' || d.objsubid)
    FROM (SELECT objoid, classoid, objsubid FROM pg_description WHERE objoid >= 16384
          UNION ALL
          SELECT d.objoid, d.classoid, d.objsubid
          FROM pg_namespace n
          JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
          WHERE n.oid < 16384
          UNION ALL
          SELECT d.objoid, d.classoid, d.objsubid
          FROM pg_extension e
          JOIN pg_description d ON d.objoid = e.oid AND d.classoid = 'pg_extension'::regclass
          WHERE e.oid < 16384) d
    UNION ALL
    SELECT 'pg_extension', array_agg(oid::text) FROM pg_extension
    UNION ALL
    SELECT 'pg_event_trigger', array_agg(oid::text) FROM pg_event_trigger
) k
