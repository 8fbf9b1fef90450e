-- Triggers (not the internal ones of foreign keys) by definition and enabled state.
SELECT 'trigger', r.qname || '.' || quote_ident(t.tgname),
       ARRAY['definition', pg_get_triggerdef(t.oid),
             'enabled', CASE t.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                                         WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_trigger'::regclass AND dc.objoid = t.oid AND dc.objsubid = 0
WHERE NOT t.tgisinternal
