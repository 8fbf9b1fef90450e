-- Migration 20260202150000: extend latest builds view
-- The badge also shows the build number and how long the build took.
-- CREATE OR REPLACE VIEW may only append columns, which this does.

CREATE OR REPLACE VIEW latest_pull_request_builds AS
SELECT DISTINCT ON (b.pull_request_id)
    b.pull_request_id,
    pr.project_id,
    pr.number AS pull_request_number,
    b.id AS build_id,
    b.pipeline_id,
    b.commit_sha,
    b.status,
    b.queued_at,
    b.finished_at,
    b.number AS build_number,
    b.finished_at - b.started_at AS duration
FROM builds AS b
JOIN pull_requests AS pr ON pr.id = b.pull_request_id
ORDER BY b.pull_request_id, b.queued_at DESC, b.id DESC;
