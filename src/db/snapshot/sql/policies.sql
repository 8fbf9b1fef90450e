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
FROM rel r JOIN pg_policy p ON p.polrelid = r.oid
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_policy'::regclass AND dc.objoid = p.oid AND dc.objsubid = 0
