-- Migration 20260106101500: create events
-- Webhook deliveries, stored as received and processed asynchronously.

CREATE TABLE events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  uuid NOT NULL,
    project_id   bigint REFERENCES projects (id) ON DELETE SET NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    CONSTRAINT events_delivery_id_key UNIQUE (delivery_id),
    CONSTRAINT events_payload_is_object CHECK (jsonb_typeof(payload) = 'object')
);

-- The worker polls the queue of unprocessed deliveries in arrival order.
CREATE INDEX events_unprocessed_idx ON events (received_at) WHERE processed_at IS NULL;
-- Look up deliveries by payload content (payload @> '{"action": "opened"}').
CREATE INDEX events_payload_idx ON events USING gin (payload jsonb_path_ops);
