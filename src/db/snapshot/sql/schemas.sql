-- Schemas.
SELECT 'schema'::text, quote_ident(n.nspname), ARRAY[]::text[], dc.description,
       n.nspacl, 'n'::"char", n.nspowner, NULL::oid, 'g'::text
FROM nsp n
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
