-- Migration 20260105093000: create projects
-- A project is one repository the CI service builds.

CREATE TABLE projects (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug           text NOT NULL,
    name           text NOT NULL,
    repository_url text NOT NULL,
    default_branch text NOT NULL DEFAULT 'main',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_slug_key UNIQUE (slug),
    CONSTRAINT projects_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$')
);

COMMENT ON TABLE projects IS 'Repositories built by the CI service, one row per repository.';
COMMENT ON COLUMN projects.slug IS 'owner/name, lower case, as in the forge URL.';
