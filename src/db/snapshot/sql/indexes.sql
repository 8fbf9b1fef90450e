-- Indexes by definition (on tables and materialized views). An index that backs a primary key,
-- unique or exclusion constraint is not listed: the constraint's definition already holds it
-- (columns, INCLUDE, WITH options); it still carries its comment.
SELECT 'index', x.qname,
       CASE WHEN b.oid IS NULL THEN ARRAY[
           'definition', pg_get_indexdef(i.indexrelid),
           'clustered', CASE WHEN i.indisclustered THEN 'true' END,
           'invalid', CASE WHEN NOT i.indisvalid THEN 'true' END,
           'replica_identity', CASE WHEN i.indisreplident THEN 'true' END,
           'parent', p.parent] END,
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || t.oid
FROM rel x
CROSS JOIN LATERAL (SELECT * FROM pg_index i WHERE i.indexrelid = x.oid OFFSET 0) i
JOIN rel t ON t.oid = i.indrelid
LEFT JOIN LATERAL (
    SELECT b.oid FROM pg_constraint b
    WHERE b.conrelid = i.indrelid AND b.conindid = i.indexrelid AND b.contype IN ('p', 'u', 'x')
    OFFSET 0) b ON true
LEFT JOIN LATERAL (
    SELECT format('%I.%I', n.nspname, c.relname) AS parent
    FROM pg_inherits h
    JOIN pg_class c ON c.oid = h.inhparent AND c.relkind = 'I'
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE h.inhrelid = i.indexrelid
    OFFSET 0) p ON true
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_class'::regclass AND d.objoid = i.indexrelid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE x.relkind IN ('i', 'I') AND (b.oid IS NULL OR dc.description IS NOT NULL)
