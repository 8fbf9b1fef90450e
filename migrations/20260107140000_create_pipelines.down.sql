-- Revert migration 20260107140000: create pipelines

DROP TABLE pipelines;
