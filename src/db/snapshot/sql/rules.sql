-- Rewrite rules on tables and views (not the rule that makes a view).
SELECT 'rule', r.qname || '.' || quote_ident(w.rulename),
       ARRAY['definition', pg_get_ruledef(w.oid),
             'enabled', CASE w.ev_enabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                                          WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM attached r
CROSS JOIN LATERAL (
    SELECT w.oid, w.rulename, w.ev_enabled FROM pg_rewrite w
    WHERE w.ev_class = r.oid AND w.rulename <> '_RETURN'
    OFFSET 0) w
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_rewrite'::regclass AND d.objoid = w.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
