-- Rewrite rules on tables and views (not the rule that makes a view).
SELECT 'rule', r.qname || '.' || quote_ident(w.rulename),
       ARRAY['definition', pg_get_ruledef(w.oid),
             'enabled', CASE w.ev_enabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                                          WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM rel r JOIN pg_rewrite w ON w.ev_class = r.oid
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_rewrite'::regclass AND dc.objoid = w.oid AND dc.objsubid = 0
WHERE w.rulename <> '_RETURN'
