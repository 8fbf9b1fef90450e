-- Migration 20260108091500: create test runs
-- One row per test case executed by a build.

CREATE TABLE test_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    build_id    bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name        text NOT NULL,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    outcome     text NOT NULL CHECK (outcome IN ('passed', 'failed', 'skipped', 'errored')),
    output      text,
    CONSTRAINT test_runs_build_name_key UNIQUE (build_id, name)
);

-- Case-insensitive search of a test by name across builds ("flaky test history").
CREATE INDEX test_runs_name_lower_idx ON test_runs (lower(name));
-- Failures are what people look at.
CREATE INDEX test_runs_failed_idx ON test_runs (build_id)
    WHERE outcome IN ('failed', 'errored');
