-- Composite types (attributes in order), read with the relation that holds their attributes.
SELECT 'composite-type', t.qname,
       ARRAY['attributes', coalesce((
           SELECT string_agg(
                      format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
                      || CASE WHEN a.attcollation <> at.typcollation
                              THEN ' COLLATE ' || a.attcollation::regcollation::text
                              ELSE '' END,
                      ', ' ORDER BY a.attnum)
           FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
           WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '')],
       dc.description, t.typacl, 'T', t.typowner, NULL::oid, 'r' || t.typrelid
FROM typ t
JOIN pg_class c ON c.oid = t.typrelid
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_type'::regclass AND d.objoid = t.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
WHERE t.typtype = 'c' AND c.relkind = 'c'
