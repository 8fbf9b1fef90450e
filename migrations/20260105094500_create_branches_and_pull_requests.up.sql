-- Migration 20260105094500: create branches and pull requests

CREATE TABLE branches (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text NOT NULL,
    head_sha   char(40),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT branches_project_name_key UNIQUE (project_id, name)
);

CREATE TABLE pull_requests (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number           integer NOT NULL CHECK (number > 0),
    title            text NOT NULL,
    author           text NOT NULL,
    source_branch_id bigint NOT NULL REFERENCES branches (id),
    target_branch    text NOT NULL,
    state            text NOT NULL DEFAULT 'open'
                     CHECK (state IN ('open', 'closed', 'merged')),
    opened_at        timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pull_requests_project_number_key UNIQUE (project_id, number),
    CONSTRAINT pull_requests_closed_when_not_open
        CHECK ((state = 'open') = (closed_at IS NULL))
);

-- Foreign keys are not indexed automatically: the lookups of "PRs from this branch".
CREATE INDEX pull_requests_source_branch_idx ON pull_requests (source_branch_id);
-- The dashboard lists the open pull requests of a project, newest first.
CREATE INDEX pull_requests_open_idx ON pull_requests (project_id, opened_at DESC)
    WHERE state = 'open';
