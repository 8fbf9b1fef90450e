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
FROM pg_index i
JOIN rel x ON x.oid = i.indexrelid
JOIN rel t ON t.oid = i.indrelid
LEFT JOIN pg_constraint b
       ON b.conindid = i.indexrelid AND b.conrelid = i.indrelid AND b.contype IN ('p', 'u', 'x')
LEFT JOIN (
    SELECT h.inhrelid, format('%I.%I', n.nspname, c.relname) AS parent
    FROM pg_inherits h
    JOIN pg_class c ON c.oid = h.inhparent AND c.relkind = 'I'
    JOIN pg_namespace n ON n.oid = c.relnamespace
) p ON p.inhrelid = i.indexrelid
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_class'::regclass AND dc.objoid = i.indexrelid AND dc.objsubid = 0
WHERE b.oid IS NULL OR dc.description IS NOT NULL
