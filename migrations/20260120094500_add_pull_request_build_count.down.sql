-- Revert migration 20260120094500: add pull request build count

DROP TRIGGER builds_count_per_pull_request ON builds;
DROP FUNCTION bump_pull_request_build_count();
ALTER TABLE pull_requests DROP COLUMN build_count;
