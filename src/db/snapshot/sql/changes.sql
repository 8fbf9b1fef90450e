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
-- Functions with the name of a changed one: an overload added or changed can change how calls
-- of the others are written (ruleutils qualifies a call that would resolve to another one).
named AS (
    SELECT DISTINCT o.oid
    FROM changed c
    JOIN pg_proc p ON p.oid = c.objid
    JOIN pg_proc o ON o.proname = p.proname
    WHERE c.classid = 'pg_proc'::regclass AND (SELECT bound FROM h) < 2147483647
),
-- Objects that depend on a changed object, or on a function named like a changed one.
dependents AS (
    SELECT DISTINCT d.classid, d.objid
    FROM (SELECT DISTINCT classid, objid FROM changed
          UNION
          SELECT 'pg_proc'::regclass, oid FROM named) o
    -- LATERAL: one index lookup per changed object, whatever the estimates say.
    CROSS JOIN LATERAL (
        SELECT d.classid, d.objid FROM pg_depend d
        WHERE d.refclassid = o.classid AND d.refobjid = o.objid OFFSET 0) d
    -- Not for a baseline, where every object counts as changed anyway.
    WHERE (SELECT bound FROM h) < 2147483647
),
-- Each object as the relation ('c'), type ('t') or function ('f') whose unit holds it, 'g' for
-- the global unit, '-' for an object no snapshot shows (plain CASE expressions: a LATERAL union
-- per row would make the planner's estimate large enough to JIT-compile the query).
owner AS MATERIALIZED (
    SELECT x.src, x.cat, x.key,
           CASE WHEN x.classid IN ('pg_class'::regclass, 'pg_attrdef'::regclass,
                                   'pg_rewrite'::regclass, 'pg_trigger'::regclass,
                                   'pg_policy'::regclass, 'pg_statistic_ext'::regclass) THEN 'c'
                WHEN x.classid = 'pg_type'::regclass THEN 't'
                WHEN x.classid = 'pg_proc'::regclass THEN 'f'
                WHEN x.classid = 'pg_constraint'::regclass THEN (
                    SELECT CASE WHEN c.conrelid <> 0 THEN 'c' WHEN c.contypid <> 0 THEN 't'
                                ELSE '-' END
                    FROM pg_constraint c WHERE c.oid = x.objid)
                WHEN x.classid IN ('pg_namespace'::regclass, 'pg_extension'::regclass,
                                   'pg_event_trigger'::regclass) THEN 'g'
                ELSE '-' END AS kind,
           CASE x.classid
                WHEN 'pg_attrdef'::regclass THEN (
                    SELECT d.adrelid FROM pg_attrdef d WHERE d.oid = x.objid)
                WHEN 'pg_rewrite'::regclass THEN (
                    SELECT w.ev_class FROM pg_rewrite w WHERE w.oid = x.objid)
                WHEN 'pg_trigger'::regclass THEN (
                    SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = x.objid)
                WHEN 'pg_policy'::regclass THEN (
                    SELECT p.polrelid FROM pg_policy p WHERE p.oid = x.objid)
                WHEN 'pg_statistic_ext'::regclass THEN (
                    SELECT s.stxrelid FROM pg_statistic_ext s WHERE s.oid = x.objid)
                WHEN 'pg_constraint'::regclass THEN (
                    SELECT CASE WHEN c.conrelid <> 0 THEN c.conrelid ELSE c.contypid END
                    FROM pg_constraint c WHERE c.oid = x.objid)
                ELSE x.objid END AS id
    FROM (SELECT 'changed' AS src, cat, key, classid, objid FROM changed
          UNION
          SELECT 'depends', NULL, NULL, classid, objid FROM dependents) x
),
-- The unit of each: an index belongs to its table, a row or array type to its relation or
-- element type, a multirange to its range; objects of system schemas cannot be tracked (a
-- temporary table can hide a table of the same name), TOAST tables show nowhere.
unit AS (
    SELECT o.src, o.cat, o.key, coalesce(CASE
        WHEN o.kind IS NULL THEN '-'
        WHEN o.kind IN ('g', '-') THEN o.kind
        WHEN o.kind = 'c' THEN (
            SELECT CASE WHEN n.nspname = 'pg_toast' THEN '-'
                        WHEN n.nspname ~ '^pg_' OR n.nspname = 'information_schema' THEN 'x'
                        WHEN c.relkind IN ('i', 'I') THEN 'r' || coalesce(i.indrelid, c.oid)
                        ELSE 'r' || c.oid END
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_index i ON i.indexrelid = c.oid
            WHERE c.oid = o.id)
        WHEN o.kind = 't' THEN (
            SELECT CASE WHEN n.nspname = 'pg_toast' THEN '-'
                        WHEN n.nspname ~ '^pg_' OR n.nspname = 'information_schema' THEN 'x'
                        WHEN t.typrelid <> 0 THEN 'r' || t.typrelid
                        WHEN e.oid IS NOT NULL AND e.typrelid <> 0 THEN 'r' || e.typrelid
                        WHEN e.oid IS NOT NULL THEN 't' || e.oid
                        WHEN m.rngtypid IS NOT NULL THEN 't' || m.rngtypid
                        ELSE 't' || t.oid END
            FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace
            LEFT JOIN pg_type e ON t.typcategory = 'A' AND e.oid = t.typelem
            LEFT JOIN pg_range m ON t.typtype = 'm' AND m.rngmultitypid = t.oid
            WHERE t.oid = o.id)
        WHEN o.kind = 'f' THEN (
            SELECT CASE WHEN n.nspname ~ '^pg_' OR n.nspname = 'information_schema' THEN 'x'
                        ELSE 'f' || p.oid END
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.oid = o.id)
        END, 'x') AS unit
    FROM owner o
)
SELECT 'count'::text AS kind, c.cat, c.n::text AS key, NULL::text AS unit, NULL::text[]
FROM counted c
UNION ALL
SELECT 'count', 'pg_namespace', count(*)::text, NULL, NULL FROM pg_namespace
UNION ALL
SELECT DISTINCT u.src, u.cat, u.key, u.unit, NULL::text[] FROM unit u
UNION ALL
-- Changes that are not tracked object by object: schemas (every qualified name may change), and
-- catalogs whose objects only appear by name in definitions (operators, collations, roles, ...).
SELECT 'full', r.reason, NULL, NULL, NULL
FROM (
    SELECT 'schemas' AS reason
    WHERE EXISTS (SELECT 1 FROM pg_namespace n WHERE age(n.xmin) <= (SELECT bound FROM h))
    UNION ALL
    SELECT 'operators, classes, families, collations, languages, access methods, servers, '
           || 'wrappers, text search, conversions, casts, tablespaces'
    WHERE EXISTS (SELECT 1 FROM pg_operator x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_opclass x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_opfamily x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_collation x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_language x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_am x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_foreign_server x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_foreign_data_wrapper x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_config x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_dict x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_parser x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_ts_template x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_conversion x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_cast x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
       OR EXISTS (SELECT 1 FROM pg_tablespace x
                  WHERE x.oid >= 16384 AND age(x.xmin) <= (SELECT bound FROM h))
    UNION ALL
    -- With more than one schema on the search path, a new object can hide another one of the
    -- same name and change how every reference to it is written.
    SELECT 'more than one schema on the search path'
    WHERE cardinality(current_schemas(false)) > 1
    UNION ALL
    -- A function named like a built-in one can change how calls of the built-in are written,
    -- and those calls are not recorded as dependencies (built-ins are pinned).
    SELECT 'a function named like a built-in one'
    WHERE EXISTS (SELECT 1 FROM changed c JOIN pg_proc p ON p.oid = c.objid
                  JOIN pg_proc b ON b.proname = p.proname AND b.oid < 16384
                  WHERE c.classid = 'pg_proc'::regclass)
) r
UNION ALL
SELECT 'state', s.name, s.value, NULL, NULL
FROM (
    SELECT 'horizon' AS name, pg_snapshot_xmax(pg_current_snapshot())::text AS value
    UNION ALL
    -- The settings the server's deparsing depends on (names as the search path resolves them,
    -- constants as the date, interval, number and bytea output settings write them).
    SELECT 'settings', concat_ws(E'\n', current_setting('search_path'),
                                 array_to_string(current_schemas(true), ','),
                                 current_setting('DateStyle'), current_setting('IntervalStyle'),
                                 current_setting('TimeZone'), current_setting('extra_float_digits'),
                                 current_setting('bytea_output'),
                                 current_setting('quote_all_identifiers'),
                                 current_setting('lc_monetary'), current_setting('lc_numeric'),
                                 current_setting('standard_conforming_strings'),
                                 -- Grants and policies name roles (pg_authid is not readable
                                 -- by every role, pg_roles has no xmin).
                                 (SELECT md5(string_agg(r.oid || ' ' || r.rolname, ','
                                                        ORDER BY r.oid))
                                  FROM pg_roles r))
    UNION ALL
    -- Objects joining or leaving an extension change only pg_depend.
    SELECT 'extension members', count(*)::text
    FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
) s
