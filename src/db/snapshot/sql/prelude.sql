-- The shared part of the snapshot query: which schemas, relations and types are the user's.
-- System schemas, extension members and the migration tracking tables (with their indexes and
-- sequences) are left out here, so every object attached to them is left out as well.
-- Objects created after initdb always have OIDs >= 16384 (FirstNormalObjectId): filtering on
-- that lets the scans skip the system catalogs' own rows through their OID indexes.
WITH
nsp AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl
    FROM pg_namespace n
    WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend e
          WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
),
tracking AS (
    SELECT c.oid FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
    WHERE c.relkind = 'r' AND c.relname IN ('_sqlx_migrations', '__diesel_schema_migrations')
),
-- The tracking tables with their indexes and sequences, as one array (computed once).
hidden AS (
    SELECT coalesce(array_agg(h.oid), '{}'::oid[]) AS oids
    FROM (
        SELECT t.oid FROM tracking t
        UNION ALL
        SELECT i.indexrelid FROM pg_index i JOIN tracking t ON t.oid = i.indrelid
        UNION ALL
        SELECT d.objid FROM pg_depend d JOIN tracking t ON t.oid = d.refobjid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.deptype IN ('a', 'i')
    ) h
),
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
)
-- Every object: kind, name, attrs (attribute names and values alternating, a NULL value for an
-- absent attribute; attrs NULL: the object is not listed itself, it only carries a comment or
-- grants: indexes backing a constraint, columns of views and composite types), its comment,
-- its ACL with the kind of ACL (acldefault's letter; NULL: no ACL) and the owner, and for a
-- column the relation it belongs to. Grants leave out the owner's. Only functions and types
-- have default privileges beyond their owner's (EXECUTE and USAGE for PUBLIC), so a NULL ACL of
-- any other object grants nothing to record.
SELECT o.kind, o.name, o.attrs, o.comment,
       CASE WHEN o.acl IS NOT NULL OR o.acl_kind IN ('f', 'T') THEN (
           SELECT array_agg(e.item ORDER BY g.grantee, e.n)
           FROM (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                             ELSE quote_ident(pg_get_userbyid(x.grantee)) END AS grantee,
                        string_agg(DISTINCT x.privilege_type, ', '
                                   ORDER BY x.privilege_type) AS privileges,
                        string_agg(DISTINCT x.privilege_type, ', '
                                   ORDER BY x.privilege_type)
                            FILTER (WHERE x.is_grantable) AS grantable
                 FROM aclexplode(coalesce(o.acl, acldefault(o.acl_kind, o.owner))) AS x
                 WHERE x.grantee <> o.owner
                 GROUP BY x.grantee) g
           CROSS JOIN LATERAL (VALUES (1, g.grantee), (2, g.privileges), (3, g.grantable))
               AS e(n, item)) END AS grants,
       o.relation
FROM (
