-- The scope of a partial snapshot: the relations in $1 (with their indexes), the types in $2 (with
-- the composite types of the relations in $1) and the functions in $3, if they are the user's.
-- Each is looked up by OID from the arrays, and checked for extension membership, through index
-- lookups (OFFSET 0 keeps a subquery from being planned as a join, which the planner would run
-- as a scan: it estimates ten elements per array, and a scratch database's catalog statistics
-- are template0's, which has no user object), so the plan stays a few index lookups whatever
-- the schema's size.
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relowner, c.relacl, c.reloptions,
           c.relrowsecurity, c.relforcerowsecurity, c.relispartition, c.relpartbound,
           c.relreplident, c.relam, c.reloftype,
           quote_ident(nsp.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM (SELECT u.oid FROM unnest($1::oid[]) AS u(oid)
          UNION
          SELECT i.indexrelid
          FROM unnest($1::oid[]) AS u(oid)
          CROSS JOIN LATERAL (
              SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = u.oid OFFSET 0) i) u
    CROSS JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = u.oid OFFSET 0) c
    JOIN nsp ON nsp.oid = c.relnamespace
    WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I', 'c')
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend e
          WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
          OFFSET 0)
      AND NOT c.oid = ANY ((SELECT h.oids FROM hidden h)::oid[])
),
typ AS (
    SELECT t.oid, t.typname, t.typtype, t.typowner, t.typacl, t.typrelid, t.typbasetype,
           t.typtypmod, t.typdefaultbin, t.typnotnull, t.typcollation,
           quote_ident(nsp.nspname) || '.' || quote_ident(t.typname) AS qname
    FROM (SELECT u.oid FROM unnest($2::oid[]) AS u(oid)
          UNION
          SELECT r.reltype
          FROM unnest($1::oid[]) AS u(oid)
          CROSS JOIN LATERAL (
              SELECT r.reltype FROM pg_class r
              WHERE r.oid = u.oid AND r.relkind = 'c' OFFSET 0) r) u
    CROSS JOIN LATERAL (SELECT * FROM pg_type t WHERE t.oid = u.oid OFFSET 0) t
    JOIN nsp ON nsp.oid = t.typnamespace
    WHERE t.oid >= 16384 AND t.typtype IN ('e', 'd', 'c', 'r')
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend e
          WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
          OFFSET 0)
),
fn AS (
    SELECT p.*
    FROM unnest($3::oid[]) AS u(oid)
    CROSS JOIN LATERAL (SELECT * FROM pg_proc p WHERE p.oid = u.oid OFFSET 0) p
    JOIN nsp ON nsp.oid = p.pronamespace
    WHERE p.oid >= 16384
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
    WHERE t.oid = ANY ($1::oid[])
)
