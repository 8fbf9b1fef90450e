-- Sequences with their options and the column that owns them (OWNED BY, or an identity).
SELECT 'sequence', r.qname,
       ARRAY['type', format_type(s.seqtypid, NULL),
             'start', s.seqstart::text,
             'increment', s.seqincrement::text,
             'min', s.seqmin::text,
             'max', s.seqmax::text,
             'cycle', s.seqcycle::text,
             'cache', s.seqcache::text,
             'unlogged', CASE WHEN r.relpersistence = 'u' THEN 'true' END,
             'owned_by', CASE WHEN own.objid IS NOT NULL THEN
                 format('%I.%I.%I', own_nsp.nspname, own_rel.relname, own_att.attname)
                 || CASE WHEN own.deptype = 'i' THEN ' (identity)' ELSE '' END END],
       dc.description, r.relacl, 's', r.relowner, NULL::oid, 'r' || r.oid
FROM rel r
CROSS JOIN LATERAL (SELECT * FROM pg_sequence s WHERE s.seqrelid = r.oid OFFSET 0) s
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_class'::regclass AND d.objoid = r.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
LEFT JOIN LATERAL (
    SELECT own.objid, own.refobjid, own.refobjsubid, own.deptype FROM pg_depend own
    WHERE own.classid = 'pg_class'::regclass AND own.objid = r.oid
      AND own.refclassid = 'pg_class'::regclass AND own.refobjsubid > 0
      AND own.deptype IN ('a', 'i')
    OFFSET 0) own ON true
LEFT JOIN pg_class own_rel ON own_rel.oid = own.refobjid
LEFT JOIN pg_namespace own_nsp ON own_nsp.oid = own_rel.relnamespace
LEFT JOIN pg_attribute own_att
       ON own_att.attrelid = own.refobjid AND own_att.attnum = own.refobjsubid
WHERE r.relkind = 'S'
