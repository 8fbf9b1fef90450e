-- Revert migration 20260126103000: add build numbers

ALTER TABLE builds DROP CONSTRAINT builds_pipeline_number_key;
ALTER TABLE builds DROP COLUMN number;
