-- The rows of the catalog-scanning change marker only (see changes.sql): the counts of the user
-- rows of the catalogs whose rows can vanish alone, and the changes it cannot follow.
UNION ALL
SELECT 'count'::text AS kind, c.cat, c.n::text AS key, NULL::text AS unit, NULL::text[]
FROM counted c
UNION ALL
SELECT 'count', 'pg_namespace', count(*)::text, NULL, NULL FROM pg_namespace
UNION ALL
-- Changes that are not tracked object by object: schemas (every qualified name may change), and
-- catalogs whose objects only appear by name in definitions (operators, collations, roles, ...).
SELECT 'full', r.reason, NULL, NULL, NULL
FROM (
    SELECT 'schemas' AS reason
    WHERE EXISTS (SELECT 1 FROM pg_namespace n WHERE age(n.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'operators, classes, families, collations, languages, access methods, servers, '
           || 'wrappers, text search, conversions, casts, tablespaces'
    WHERE EXISTS (SELECT 1 FROM pg_operator x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_opclass x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_opfamily x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_collation x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_language x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_am x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_foreign_server x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_foreign_data_wrapper x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_config x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_dict x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_parser x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_template x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_conversion x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_cast x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_tablespace x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))

) r
