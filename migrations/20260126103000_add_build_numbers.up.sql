-- Migration 20260126103000: add build numbers
-- Builds get a number per pipeline (#1, #2, ...), shown in the UI instead of
-- the global id. Existing builds are numbered in the order they were queued.

ALTER TABLE builds ADD COLUMN number integer;

UPDATE builds AS b
SET number = numbered.n
FROM (
    SELECT id, row_number() OVER (PARTITION BY pipeline_id ORDER BY queued_at, id)::integer AS n
    FROM builds
) AS numbered
WHERE numbered.id = b.id;

ALTER TABLE builds ALTER COLUMN number SET NOT NULL;
ALTER TABLE builds ADD CONSTRAINT builds_pipeline_number_key UNIQUE (pipeline_id, number);
