-- Tables: kind, partitioning, inheritance, row security, storage options, replica identity,
-- access method, typed tables and foreign tables' server and options.
SELECT 'table', r.qname,
       ARRAY['kind', CASE WHEN r.relkind = 'p' THEN 'partitioned'
                          WHEN r.relkind = 'f' THEN 'foreign'
                          WHEN r.relpersistence = 'u' THEN 'unlogged'
                          ELSE 'ordinary' END,
             'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
             'partition_bound', CASE WHEN r.relispartition
                                     THEN pg_get_expr(r.relpartbound, r.oid) END,
             'parents', (
                 SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', '
                                   ORDER BY i.inhseqno)
                 FROM pg_inherits i
                 JOIN pg_class c ON c.oid = i.inhparent
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE i.inhrelid = r.oid),
             'row_security', r.relrowsecurity::text,
             'force_row_security', r.relforcerowsecurity::text,
             'options', CASE WHEN r.reloptions IS NOT NULL THEN (
                 SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(r.reloptions) AS o) END,
             'replica_identity', CASE r.relreplident WHEN 'n' THEN 'nothing'
                                                     WHEN 'f' THEN 'full'
                                                     WHEN 'i' THEN 'index' END,
             -- 2 is the heap access method.
             'access_method', CASE WHEN r.relam NOT IN (0, 2) THEN (
                 SELECT a.amname::text FROM pg_am a WHERE a.oid = r.relam) END,
             'of_type', nullif(r.reloftype, 0)::regtype::text,
             'server', CASE WHEN r.relkind = 'f' THEN (
                 SELECT quote_ident(s.srvname)
                 FROM pg_foreign_table f JOIN pg_foreign_server s ON s.oid = f.ftserver
                 WHERE f.ftrelid = r.oid) END,
             'foreign_options', CASE WHEN r.relkind = 'f' THEN (
                 SELECT array_to_string(f.ftoptions, ', ')
                 FROM pg_foreign_table f WHERE f.ftrelid = r.oid) END],
       dc.description, r.relacl, 'r', r.relowner, NULL::oid, 'r' || r.oid
FROM rel r
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_class'::regclass AND d.objoid = r.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE r.relkind IN ('r', 'p', 'f')
