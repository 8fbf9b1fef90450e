-- What changed in the catalogs since a horizon: the change marker of partial snapshots.
--
-- Every catalog row written since the horizon (inserted or updated: an update writes a new row
-- version) carries a transaction ID at or after it in `xmin`, so `age(xmin) <= age(horizon)`
-- finds what a migration wrote. Deleted rows leave no version behind: the caller compares the
-- number of rows with the keys it saw before, and on a difference reads the keys (keys.sql). Only
-- user rows are asked for (OIDs from 16384, FirstNormalObjectId, up), which the OID indexes find
-- without reading the built-in ones.
--
-- Rows of the result: (kind, catalog, key, unit, keys)
--   'count'   a catalog and how many user rows it has (fewer than the keys seen before and the
--             changed ones: rows were deleted, and keys.sql tells which);
--   'changed' a row written since the horizon: its catalog, key and unit;
--   'depends' the unit of an object that depends on a changed one (its definition may name it:
--             a view on a renamed column, a trigger on a renamed function);
--   'full'    a reason the change cannot be tracked (the caller takes a whole snapshot);
--   'state'   the new horizon, the settings that change how definitions are written (and the
--             roles' names), and how many objects belong to extensions.
-- Units are as in finish.sql ('r', 't', 'f' and an OID, or 'g'), plus '-' for a change that
-- shows in no snapshot (a TOAST table) and 'x' for one that cannot be tracked.
-- The catalogs whose rows can vanish alone, each read once: how many user rows it holds, and
-- the keys and objects of those written since the horizon.
counted AS MATERIALIZED (
    SELECT 'pg_class'::text AS cat, count(*) AS n,
           array_agg(c.oid::text) FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_class'::regclass::oid)
               FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(c.oid) FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_class c WHERE c.oid >= 16384
    UNION ALL
    SELECT 'pg_type'::text AS cat, count(*) AS n,
           array_agg(t.oid::text) FILTER (WHERE age(t.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_type'::regclass::oid)
               FILTER (WHERE age(t.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(t.oid) FILTER (WHERE age(t.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_type t WHERE t.oid >= 16384
    UNION ALL
    SELECT 'pg_proc'::text AS cat, count(*) AS n,
           array_agg(p.oid::text) FILTER (WHERE age(p.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_proc'::regclass::oid)
               FILTER (WHERE age(p.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(p.oid) FILTER (WHERE age(p.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_proc p WHERE p.oid >= 16384
    UNION ALL
    SELECT 'pg_constraint'::text AS cat, count(*) AS n,
           array_agg(c.oid::text) FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_constraint'::regclass::oid)
               FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(c.oid) FILTER (WHERE age(c.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_constraint c WHERE c.oid >= 16384
    UNION ALL
    SELECT 'pg_trigger'::text AS cat, count(*) AS n,
           array_agg(t.oid::text) FILTER (WHERE age(t.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_trigger'::regclass::oid)
               FILTER (WHERE age(t.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(t.oid) FILTER (WHERE age(t.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_trigger t WHERE t.oid >= 16384
    UNION ALL
    SELECT 'pg_policy'::text AS cat, count(*) AS n,
           array_agg(p.oid::text) FILTER (WHERE age(p.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_policy'::regclass::oid)
               FILTER (WHERE age(p.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(p.oid) FILTER (WHERE age(p.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_policy p WHERE p.oid >= 16384
    UNION ALL
    SELECT 'pg_rewrite'::text AS cat, count(*) AS n,
           array_agg(w.oid::text) FILTER (WHERE age(w.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_rewrite'::regclass::oid)
               FILTER (WHERE age(w.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(w.oid) FILTER (WHERE age(w.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_rewrite w WHERE w.oid >= 16384
    UNION ALL
    SELECT 'pg_statistic_ext'::text AS cat, count(*) AS n,
           array_agg(s.oid::text) FILTER (WHERE age(s.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_statistic_ext'::regclass::oid)
               FILTER (WHERE age(s.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(s.oid) FILTER (WHERE age(s.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_statistic_ext s WHERE s.oid >= 16384
    UNION ALL
    SELECT 'pg_description'::text AS cat, count(*) AS n,
           array_agg(d.objoid || '/' || d.classoid || '/' || d.objsubid)
               FILTER (WHERE age(d.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg(d.classoid) FILTER (WHERE age(d.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(d.objoid) FILTER (WHERE age(d.xmin) <= (SELECT bound FROM h)) AS objids
    FROM (SELECT objoid, classoid, objsubid, xmin FROM pg_description WHERE objoid >= 16384
          UNION ALL
          -- Comments on the schemas and extensions made by initdb (public, plpgsql).
          SELECT d.objoid, d.classoid, d.objsubid, d.xmin
          FROM pg_namespace n
          JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
          WHERE n.oid < 16384
          UNION ALL
          SELECT d.objoid, d.classoid, d.objsubid, d.xmin
          FROM pg_extension e
          JOIN pg_description d ON d.objoid = e.oid AND d.classoid = 'pg_extension'::regclass
          WHERE e.oid < 16384) d
    UNION ALL
    SELECT 'pg_extension'::text AS cat, count(*) AS n,
           array_agg(e.oid::text) FILTER (WHERE age(e.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_extension'::regclass::oid)
               FILTER (WHERE age(e.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(e.oid) FILTER (WHERE age(e.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_extension e
    UNION ALL
    SELECT 'pg_event_trigger'::text AS cat, count(*) AS n,
           array_agg(e.oid::text) FILTER (WHERE age(e.xmin) <= (SELECT bound FROM h)) AS keys,
           array_agg('pg_event_trigger'::regclass::oid)
               FILTER (WHERE age(e.xmin) <= (SELECT bound FROM h)) AS classids,
           array_agg(e.oid) FILTER (WHERE age(e.xmin) <= (SELECT bound FROM h)) AS objids
    FROM pg_event_trigger e
),
changed AS (
    SELECT c.cat, x.key, x.classid, x.objid
    FROM counted c
    CROSS JOIN LATERAL unnest(c.keys, c.classids, c.objids) AS x(key, classid, objid)
    UNION ALL
    SELECT 'pg_attribute', NULL, 'pg_class'::regclass, a.attrelid
    FROM pg_attribute a
    WHERE a.attrelid >= 16384 AND a.attnum > 0 AND (age(a.xmin) <= (SELECT bound FROM h))
    -- The catalogs below lose a row only together with a row of one above (an index's pg_index
    -- row with its pg_class row, a default with its column's `atthasdef`, an inheritance with
    -- the child's `attinhcount`), so their keys are not needed.
    UNION ALL
    SELECT 'pg_index', NULL, 'pg_class'::regclass, i.indexrelid
    FROM pg_index i WHERE i.indexrelid >= 16384 AND (age(i.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_attrdef', NULL, 'pg_attrdef'::regclass, d.oid
    FROM pg_attrdef d WHERE d.oid >= 16384 AND (age(d.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_sequence', NULL, 'pg_class'::regclass, s.seqrelid
    FROM pg_sequence s WHERE s.seqrelid >= 16384 AND (age(s.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_inherits', NULL, 'pg_class'::regclass, i.inhrelid
    FROM pg_inherits i WHERE i.inhrelid >= 16384 AND (age(i.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_enum', NULL, 'pg_type'::regclass, e.enumtypid
    FROM pg_enum e WHERE e.oid >= 16384 AND (age(e.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_range', NULL, 'pg_type'::regclass, r.rngtypid
    FROM pg_range r WHERE r.rngtypid >= 16384 AND (age(r.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_aggregate', NULL, 'pg_proc'::regclass, a.aggfnoid
    FROM pg_aggregate a
    WHERE a.aggfnoid >= 16384 AND (age(a.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_foreign_table', NULL, 'pg_class'::regclass, f.ftrelid
    FROM pg_foreign_table f
    WHERE f.ftrelid >= 16384 AND (age(f.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'pg_partitioned_table', NULL, 'pg_class'::regclass, p.partrelid
    FROM pg_partitioned_table p
    WHERE p.partrelid >= 16384 AND (age(p.xmin) <= (SELECT bound FROM h))
),
