-- The rows of the change marker both sources share (after changes_units.sql): the units to
-- re-read, the reasons a change cannot be followed, and the state.
-- For changed objects and dependents, the last column holds the unit's relation kind.
SELECT DISTINCT u.src, u.cat, u.key, u.unit, ARRAY[u.part] FROM unit u
UNION ALL
SELECT 'full', r.reason, NULL, NULL, NULL
FROM (
    -- With more than one schema on the search path, a new object can hide another one of the
    -- same name and change how every reference to it is written.
    SELECT 'more than one schema on the search path' AS reason
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
    -- Event triggers: creating or changing one fires no event trigger (events.sql would miss it).
    SELECT 'event triggers', coalesce(md5(string_agg(e.oid || ' ' || e.xmin, ','
                                                     ORDER BY e.oid)), '')
    FROM pg_event_trigger e
    UNION ALL
    -- Objects joining or leaving an extension change only pg_depend.
    SELECT 'extension members', count(*)::text
    FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
) s
