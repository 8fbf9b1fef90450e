-- Views and materialized views by definition and options.
SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized-view' END, r.qname,
       ARRAY['definition', pg_get_viewdef(r.oid),
             'options', CASE WHEN r.reloptions IS NOT NULL THEN (
                 SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(r.reloptions) AS o) END],
       dc.description, r.relacl, 'r', r.relowner, NULL::oid, 'r' || r.oid
FROM rel r
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_class'::regclass AND dc.objoid = r.oid AND dc.objsubid = 0
WHERE r.relkind IN ('v', 'm')
