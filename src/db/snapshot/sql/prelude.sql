-- The shared start of the snapshot queries: which schemas are the user's, and which relations are
-- the migration tracking tables.
-- System schemas, extension members and the migration tracking tables (with their indexes and
-- sequences) are left out here, so every object attached to them is left out as well.
-- Objects created after initdb always have OIDs >= 16384 (FirstNormalObjectId): filtering on
-- that lets the scans skip the system catalogs' own rows through their OID indexes.
WITH
nsp AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl
    FROM pg_namespace n
    -- _packit_db_events: the event log of partial snapshots (event_log.sql).
    WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', '_packit_db_events')
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
