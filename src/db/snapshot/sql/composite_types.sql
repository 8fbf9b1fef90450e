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
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_type'::regclass AND dc.objoid = t.oid AND dc.objsubid = 0
WHERE t.typtype = 'c' AND c.relkind = 'c'
