-- Migration 20260107140000: create pipelines
-- A pipeline is one CI configuration of a project (lint, test, release...).

CREATE TABLE pipelines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        text NOT NULL,
    config_path text NOT NULL DEFAULT '.ci/pipeline.yml',
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pipelines_project_name_key UNIQUE (project_id, name)
);
