-- Extended statistics objects (CREATE STATISTICS) by definition.
SELECT 'statistics', format('%I.%I', n.nspname, s.stxname),
       ARRAY['definition', pg_get_statisticsobjdef(s.oid),
             'target', CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget::text END],
       dc.description, NULL::aclitem[], NULL::"char", 0::oid, NULL::oid, 'r' || r.oid
FROM rel r
CROSS JOIN LATERAL (
    SELECT s.oid, s.stxname, s.stxnamespace, s.stxstattarget FROM pg_statistic_ext s
    WHERE s.stxrelid = r.oid
    OFFSET 0) s
JOIN nsp n ON n.oid = s.stxnamespace
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_statistic_ext'::regclass AND d.objoid = s.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
