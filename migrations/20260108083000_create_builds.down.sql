-- Revert migration 20260108083000: create builds

DROP INDEX builds_active_idx;
DROP INDEX builds_pull_request_idx;
DROP INDEX builds_pipeline_idx;
DROP TABLE builds;
DROP TYPE build_status;
