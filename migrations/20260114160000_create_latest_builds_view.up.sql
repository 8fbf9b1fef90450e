-- Migration 20260114160000: create latest builds view
-- The most recent build of every pull request, for the PR status badge.

CREATE VIEW latest_pull_request_builds AS
SELECT DISTINCT ON (b.pull_request_id)
    b.pull_request_id,
    pr.project_id,
    pr.number AS pull_request_number,
    b.id AS build_id,
    b.pipeline_id,
    b.commit_sha,
    b.status,
    b.queued_at,
    b.finished_at
FROM builds AS b
JOIN pull_requests AS pr ON pr.id = b.pull_request_id
ORDER BY b.pull_request_id, b.queued_at DESC, b.id DESC;

COMMENT ON VIEW latest_pull_request_builds IS 'The latest build of each pull request.';
