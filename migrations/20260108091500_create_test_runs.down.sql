-- Revert migration 20260108091500: create test runs

DROP INDEX test_runs_failed_idx;
DROP INDEX test_runs_name_lower_idx;
DROP TABLE test_runs;
