-- The part of the change marker both sources share (see changes.sql and events.sql): from the
-- changed objects (`changed`: catalog, key, class and object ID), the units to re-read, the
-- objects that depend on them, the reasons a change cannot be followed, and the state rows.
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
        END, 'x') AS unit,
           -- The kind of a relation unit's relation (an index's table's), to read only the
           -- parts of that kind.
           CASE WHEN o.kind = 'c' THEN (
               SELECT coalesce(t.relkind, c.relkind)::text
               FROM pg_class c
               LEFT JOIN pg_index i ON i.indexrelid = c.oid
               LEFT JOIN pg_class t ON t.oid = i.indrelid
               WHERE c.oid = o.id) END AS part
    FROM owner o
)
