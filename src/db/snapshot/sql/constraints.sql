-- Primary key, unique, check, foreign key and exclusion constraints of tables, by name and
-- definition (NOT NULL is a column attribute; domain checks are domain attributes).
SELECT 'constraint', r.qname || '.' || quote_ident(c.conname),
       ARRAY['definition', pg_get_constraintdef(c.oid),
             'inherited', CASE WHEN NOT c.conislocal THEN 'true' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM rel r
JOIN pg_constraint c ON c.conrelid = r.oid
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_constraint'::regclass AND dc.objoid = c.oid AND dc.objsubid = 0
WHERE c.contype IN ('p', 'u', 'c', 'f', 'x')
