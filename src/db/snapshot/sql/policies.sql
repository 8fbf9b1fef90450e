-- Row-level security policies (whether RLS is enabled is a table attribute).
SELECT 'policy', r.qname || '.' || quote_ident(p.polname),
       ARRAY['command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                      WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE'
                                      ELSE 'ALL' END,
             'permissive', p.polpermissive::text,
             'roles', (SELECT string_agg(g.name, ', ' ORDER BY g.name)
                       FROM (SELECT CASE WHEN o = 0 THEN 'PUBLIC'
                                         ELSE quote_ident(pg_get_userbyid(o)) END AS name
                             FROM unnest(p.polroles) AS o) g),
             'using', pg_get_expr(p.polqual, p.polrelid),
             'with_check', pg_get_expr(p.polwithcheck, p.polrelid)],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM attached r
CROSS JOIN LATERAL (SELECT * FROM pg_policy p WHERE p.polrelid = r.oid OFFSET 0) p
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
