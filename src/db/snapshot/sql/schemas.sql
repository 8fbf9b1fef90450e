-- Schemas.
SELECT 'schema'::text, quote_ident(n.nspname), ARRAY[]::text[], dc.description,
       n.nspacl, 'n'::"char", n.nspowner, NULL::oid, 'g'::text
FROM nsp n
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_namespace'::regclass AND dc.objoid = n.oid AND dc.objsubid = 0
