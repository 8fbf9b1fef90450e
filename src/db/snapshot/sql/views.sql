-- Views and materialized views by definition and options.
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized-view' END, r.qname,
       ARRAY['definition', pg_get_viewdef(r.oid),
             'options', CASE WHEN r.reloptions IS NOT NULL THEN (
                 SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(r.reloptions) AS o) END],
       dc.description, r.relacl, 'r', r.relowner, NULL::oid, 'r' || r.oid
FROM rel r
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_class'::regclass AND d.objoid = r.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE r.relkind IN ('v', 'm')
