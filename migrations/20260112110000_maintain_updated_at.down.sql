-- Revert migration 20260112110000: maintain updated_at

DROP TRIGGER pull_requests_set_updated_at ON pull_requests;
DROP TRIGGER projects_set_updated_at ON projects;
DROP FUNCTION set_updated_at();
