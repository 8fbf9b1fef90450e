-- Triggers (not the internal ones of foreign keys) by definition and enabled state.
SELECT 'trigger', r.qname || '.' || quote_ident(t.tgname),
       ARRAY['definition', pg_get_triggerdef(t.oid),
             'enabled', CASE t.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                                         WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM attached r
CROSS JOIN LATERAL (
    SELECT t.oid, t.tgname, t.tgenabled FROM pg_trigger t
    WHERE t.tgrelid = r.oid AND NOT t.tgisinternal
    OFFSET 0) t
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_trigger'::regclass AND d.objoid = t.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
