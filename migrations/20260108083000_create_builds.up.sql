-- Migration 20260108083000: create builds

CREATE TYPE build_status AS ENUM ('queued', 'running', 'passed', 'failed', 'cancelled');

CREATE TABLE builds (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline_id     bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    pull_request_id bigint REFERENCES pull_requests (id) ON DELETE SET NULL,
    commit_sha      char(40) NOT NULL CHECK (commit_sha ~ '^[0-9a-f]{40}$'),
    status          build_status NOT NULL DEFAULT 'queued',
    queued_at       timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    CONSTRAINT builds_finished_after_started CHECK (finished_at >= started_at)
);

CREATE INDEX builds_pipeline_idx ON builds (pipeline_id, queued_at DESC);
CREATE INDEX builds_pull_request_idx ON builds (pull_request_id, queued_at DESC)
    WHERE pull_request_id IS NOT NULL;
-- The scheduler only ever looks at builds that are not finished.
CREATE INDEX builds_active_idx ON builds (queued_at)
    WHERE status IN ('queued', 'running');
