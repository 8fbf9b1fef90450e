-- Extensions with their version and schema (their members are left out everywhere).
SELECT 'extension', quote_ident(e.extname),
       ARRAY['version', e.extversion, 'schema', quote_ident(n.nspname)], dc.description,
       NULL::aclitem[], NULL::"char", e.extowner, NULL::oid, 'g'
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_extension'::regclass AND d.objoid = e.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
