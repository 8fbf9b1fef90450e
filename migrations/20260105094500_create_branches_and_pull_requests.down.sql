-- Revert migration 20260105094500: create branches and pull requests

DROP INDEX pull_requests_open_idx;
DROP INDEX pull_requests_source_branch_idx;
DROP TABLE pull_requests;
DROP TABLE branches;
