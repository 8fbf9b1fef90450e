-- Extended statistics objects (CREATE STATISTICS) by definition.
SELECT 'statistics', format('%I.%I', n.nspname, s.stxname),
       ARRAY['definition', pg_get_statisticsobjdef(s.oid),
             'target', CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget::text END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM pg_statistic_ext s
JOIN nsp n ON n.oid = s.stxnamespace
JOIN rel r ON r.oid = s.stxrelid
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_statistic_ext'::regclass AND dc.objoid = s.oid AND dc.objsubid = 0
