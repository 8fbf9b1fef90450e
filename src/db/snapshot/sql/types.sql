-- Enum types (labels in order), domain types (base type, default, not null, collation, check
-- constraints by name) and range types.
SELECT 'enum-type', t.qname,
       ARRAY['labels', coalesce((
           SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
           FROM pg_enum e WHERE e.enumtypid = t.oid), '')],
       dc.description, t.typacl, 'T', t.typowner, NULL::oid, 't' || t.oid
FROM typ t
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_type'::regclass AND d.objoid = t.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE t.typtype = 'e'
UNION ALL
SELECT 'domain-type', t.qname,
       ARRAY['type', format_type(t.typbasetype, t.typtypmod),
             'default', pg_get_expr(t.typdefaultbin, 0),
             'not_null', t.typnotnull::text,
             'collation', CASE WHEN t.typcollation <> b.typcollation
                               THEN t.typcollation::regcollation::text END]
       || coalesce((
           SELECT array_agg(x.item ORDER BY c.conname, x.n)
           FROM pg_constraint c
           CROSS JOIN LATERAL (VALUES (1, 'check ' || quote_ident(c.conname)),
                                      (2, pg_get_constraintdef(c.oid))) AS x(n, item)
           WHERE c.contypid = t.oid AND c.contype = 'c'), ARRAY[]::text[]),
       dc.description, t.typacl, 'T', t.typowner, NULL::oid, 't' || t.oid
FROM typ t
JOIN pg_type b ON b.oid = t.typbasetype
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_type'::regclass AND d.objoid = t.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE t.typtype = 'd'
UNION ALL
SELECT 'range-type', t.qname,
       ARRAY['subtype', format_type(r.rngsubtype, NULL),
             'collation', CASE WHEN r.rngcollation <> 0
                               THEN r.rngcollation::regcollation::text END,
             'opclass', (SELECT format('%I.%I', n.nspname, o.opcname)
                         FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace
                         WHERE o.oid = r.rngsubopc),
             'canonical', nullif(r.rngcanonical, 0)::regprocedure::text,
             'subdiff', nullif(r.rngsubdiff, 0)::regprocedure::text,
             'multirange', r.rngmultitypid::regtype::text],
       dc.description, t.typacl, 'T', t.typowner, NULL::oid, 't' || t.oid
FROM typ t
JOIN pg_range r ON r.rngtypid = t.oid
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_type'::regclass AND d.objoid = t.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE t.typtype = 'r'
