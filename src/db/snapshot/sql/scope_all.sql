-- The scope of a whole snapshot: every relation, type and function of the user's schemas.
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relowner, c.relacl, c.reloptions,
           c.relrowsecurity, c.relforcerowsecurity, c.relispartition, c.relpartbound,
           c.relreplident, c.relam, c.reloftype,
           quote_ident(nsp.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
    WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I', 'c')
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
    WHERE t.oid >= 16384 AND t.typtype IN ('e', 'd', 'c', 'r')
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend e
          WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
),
fn AS (
    SELECT p.* FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace WHERE p.oid >= 16384
),
-- The relations whose triggers, rules and policies are shown: the user's, and the migration
-- tracking tables, which are hidden themselves but may carry objects a migration attaches to
-- them (a trigger that forbids another migration tool) and that are compared like any other.
attached AS (
    SELECT r.oid, r.qname FROM rel r
    UNION ALL
    SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
    FROM tracking t
    JOIN pg_class c ON c.oid = t.oid
    JOIN pg_namespace n ON n.oid = c.relnamespace
)
