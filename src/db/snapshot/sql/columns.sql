-- Columns of tables (listed), and of views, materialized views and composite types (not
-- listed: they only carry comments and grants). `position` is the attribute number here; the
-- client turns it into the ordinal among the table's columns that are not dropped (the row's
-- `relation` groups them), so a column dropped and re-added at the end only moves positions.
-- The attributes most columns do not have are only built when one of them is set. Options are
-- sorted; options named pg_* are the server's own bookkeeping (some builds keep a per-column
-- `pg_attver` there, which pg_dump does not dump either) and are left out.
SELECT 'column', r.qname || '.' || quote_ident(a.attname),
       CASE WHEN r.relkind IN ('r', 'p', 'f') THEN ARRAY[
           'type', format_type(a.atttypid, a.atttypmod),
           'position', a.attnum::text,
           'not_null', a.attnotnull::text,
           'default', CASE WHEN a.atthasdef AND a.attgenerated = ''
                           THEN pg_get_expr(d.adbin, d.adrelid) END]
       || CASE WHEN a.attgenerated <> '' OR a.attidentity <> ''
                 OR a.attcollation <> t.typcollation OR a.attstorage <> t.typstorage
                 OR a.attcompression <> '' OR a.attstattarget >= 0 OR NOT a.attislocal
                 OR a.attfdwoptions IS NOT NULL
                 OR (a.attoptions IS NOT NULL
                     AND NOT (cardinality(a.attoptions) = 1 AND a.attoptions[1] LIKE 'pg\_%'))
          THEN ARRAY[
           'generated', CASE WHEN a.attgenerated <> ''
                             THEN pg_get_expr(d.adbin, d.adrelid)
                                  || CASE a.attgenerated WHEN 'v' THEN ' VIRTUAL'
                                                         ELSE ' STORED' END END,
           'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
           'collation', CASE WHEN a.attcollation <> t.typcollation
                             THEN a.attcollation::regcollation::text END,
           'storage', CASE WHEN a.attstorage <> t.typstorage
                           THEN CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
                                                  WHEN 'm' THEN 'main' ELSE 'extended' END END,
           'compression', CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
           'statistics', CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::text END,
           'inherited', CASE WHEN NOT a.attislocal THEN 'true' END,
           'options', CASE WHEN a.attoptions IS NOT NULL THEN (
               SELECT string_agg(o, ', ' ORDER BY o)
               FROM unnest(a.attoptions) AS o WHERE o NOT LIKE 'pg\_%') END,
           'foreign_options', array_to_string(a.attfdwoptions, ', ')] END END,
       dc.description, a.attacl, 'c', r.relowner, r.oid, 'r' || r.oid
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_class'::regclass AND d.objoid = r.oid AND d.objsubid = a.attnum
    OFFSET 0) dc ON true
WHERE r.relkind IN ('r', 'p', 'f')
   OR (r.relkind IN ('v', 'm', 'c') AND (dc.description IS NOT NULL OR a.attacl IS NOT NULL))
