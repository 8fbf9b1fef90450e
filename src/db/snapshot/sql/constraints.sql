-- Primary key, unique, check, foreign key and exclusion constraints of tables, by name and
-- definition (NOT NULL is a column attribute; domain checks are domain attributes).
SELECT 'constraint', r.qname || '.' || quote_ident(c.conname),
       ARRAY['definition', pg_get_constraintdef(c.oid),
             'inherited', CASE WHEN NOT c.conislocal THEN 'true' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM rel r
CROSS JOIN LATERAL (
    SELECT c.oid, c.conname, c.conislocal FROM pg_constraint c
    WHERE c.conrelid = r.oid AND c.contype IN ('p', 'u', 'c', 'f', 'x')
    OFFSET 0) c
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_constraint'::regclass AND d.objoid = c.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
