-- Revert migration 20260106101500: create events

DROP INDEX events_payload_idx;
DROP INDEX events_unprocessed_idx;
DROP TABLE events;
