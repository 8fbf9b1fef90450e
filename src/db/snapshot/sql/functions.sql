-- Functions, procedures and aggregates, identified by their signature (input argument types).
-- Functions created implicitly with a type (range constructors) are left out.
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)),
       ARRAY['arguments', pg_get_function_arguments(p.oid),
             'returns', pg_get_function_result(p.oid),
             'language', l.lanname::text,
             'body', CASE WHEN p.prokind = 'a' THEN NULL
                          WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid)
                          ELSE p.prosrc END,
             'library', nullif(p.probin, ''),
             'window', CASE WHEN p.prokind = 'w' THEN 'true' END,
             'volatility', CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable'
                                              ELSE 'volatile' END,
             'strict', p.proisstrict::text,
             'security_definer', p.prosecdef::text,
             'leakproof', p.proleakproof::text,
             'parallel', CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted'
                                            ELSE 'unsafe' END,
             'cost', p.procost::text,
             'rows', CASE WHEN p.proretset THEN p.prorows::text END,
             'config', array_to_string(p.proconfig, ', '),
             'support', nullif(p.prosupport, 0)::regproc::text]
       || CASE WHEN g.aggfnoid IS NULL THEN ARRAY[]::text[] ELSE ARRAY[
             'aggregate_kind', g.aggkind::text,
             'sfunc', g.aggtransfn::regprocedure::text,
             'stype', format_type(g.aggtranstype, NULL),
             'finalfunc', nullif(g.aggfinalfn, 0)::regprocedure::text,
             'finalfunc_extra', g.aggfinalextra::text,
             'finalfunc_modify', g.aggfinalmodify::text,
             'combinefunc', nullif(g.aggcombinefn, 0)::regprocedure::text,
             'serialfunc', nullif(g.aggserialfn, 0)::regprocedure::text,
             'deserialfunc', nullif(g.aggdeserialfn, 0)::regprocedure::text,
             'msfunc', nullif(g.aggmtransfn, 0)::regprocedure::text,
             'minvfunc', nullif(g.aggminvtransfn, 0)::regprocedure::text,
             'mfinalfunc', nullif(g.aggmfinalfn, 0)::regprocedure::text,
             'mstype', nullif(g.aggmtranstype, 0)::regtype::text,
             'initcond', g.agginitval,
             'minitcond', g.aggminitval,
             'sortop', nullif(g.aggsortop, 0)::regoperator::text] END,
       dc.description, p.proacl, 'f', p.proowner, NULL::oid, 'f' || p.oid
FROM fn p
JOIN nsp n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_aggregate g ON g.aggfnoid = p.oid
LEFT JOIN LATERAL (
    SELECT d.description FROM pg_description d
    WHERE d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid AND d.objsubid = 0
    OFFSET 0) dc ON true
-- (OFFSET 0: an index lookup per function, not a scan of pg_depend for the few functions a
-- partial snapshot reads.)
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                    AND e.deptype = 'e' OFFSET 0)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i'
                  OFFSET 0)
