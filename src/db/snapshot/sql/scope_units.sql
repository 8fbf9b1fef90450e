-- The scope of a partial snapshot: the relations in $1 (with their indexes), the types in $2 (with
-- the composite types of the relations in $1) and the functions in $3, if they are the user's.
-- Each is looked up by OID, so the plan stays a few index lookups whatever the schema's size.
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relowner, c.relacl, c.reloptions,
           c.relrowsecurity, c.relforcerowsecurity, c.relispartition, c.relpartbound,
           c.relreplident, c.relam, c.reloftype,
           quote_ident(nsp.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
    WHERE c.oid IN (SELECT unnest($1::oid[])
                    UNION ALL
                    SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = ANY ($1::oid[]))
      AND c.oid >= 16384 AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I', 'c')
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend e
          WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
      AND NOT c.oid = ANY ((SELECT h.oids FROM hidden h)::oid[])
),
typ AS (
    SELECT t.oid, t.typname, t.typtype, t.typowner, t.typacl, t.typrelid, t.typbasetype,
           t.typtypmod, t.typdefaultbin, t.typnotnull, t.typcollation,
           quote_ident(nsp.nspname) || '.' || quote_ident(t.typname) AS qname
    FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace
    WHERE t.oid IN (SELECT unnest($2::oid[])
                    UNION ALL
                    SELECT r.reltype FROM pg_class r WHERE r.oid = ANY ($1::oid[]) AND r.relkind = 'c')
      AND t.oid >= 16384 AND t.typtype IN ('e', 'd', 'c', 'r')
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend e
          WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
),
fn AS (
    SELECT p.* FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace WHERE p.oid = ANY ($3::oid[]) AND p.oid >= 16384
)
