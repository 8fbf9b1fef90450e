-- Migration 20260120094500: add pull request build count
-- A counter of builds per pull request, kept by a trigger and backfilled from
-- the existing builds. The backfill is not a change made by a user, so it
-- leaves updated_at alone: its trigger is off during the UPDATE only.

ALTER TABLE pull_requests ADD COLUMN build_count integer NOT NULL DEFAULT 0;

ALTER TABLE pull_requests DISABLE TRIGGER pull_requests_set_updated_at;
UPDATE pull_requests AS pr
SET build_count = counted.n
FROM (
    SELECT pull_request_id, count(*)::integer AS n
    FROM builds
    WHERE pull_request_id IS NOT NULL
    GROUP BY pull_request_id
) AS counted
WHERE counted.pull_request_id = pr.id;
ALTER TABLE pull_requests ENABLE TRIGGER pull_requests_set_updated_at;

CREATE FUNCTION bump_pull_request_build_count() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.pull_request_id IS NOT NULL THEN
        UPDATE pull_requests SET build_count = build_count - 1 WHERE id = OLD.pull_request_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.pull_request_id IS NOT NULL THEN
        UPDATE pull_requests SET build_count = build_count + 1 WHERE id = NEW.pull_request_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER builds_count_per_pull_request
    AFTER INSERT OR DELETE OR UPDATE OF pull_request_id ON builds
    FOR EACH ROW
    EXECUTE FUNCTION bump_pull_request_build_count();
