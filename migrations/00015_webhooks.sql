-- Webhooks (Standard Webhooks 1.0.0; issue 13): the outbox of events, the subscriptions of a
-- council and of its providers, and each event's delivery to each subscription with its attempts.
--
-- The outbox: a change writes its event row (webhook_events) in the change's own transaction
-- (internal/webhook/outbox.Emit), together with the River job that fans it out. Both exist if and
-- only if the change committed, so a crash between the commit and the delivery loses nothing:
-- the job is worked when an instance next runs. Fan-out makes one webhook_deliveries row per
-- matching subscription (unique per subscription and event, so a fan-out run twice delivers
-- once), each delivered by its own River jobs, one an attempt, on the Standard Webhooks schedule.
--
-- Events are thin: the type, the record's id and GET path, the council, the time — never personal
-- data. person_id and provider_id are kept only to decide which provider subscriptions may receive
-- an event (those of providers whose reach covers the person, or the provider the record
-- belongs to); they are never sent.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    -- NULL: the council's own subscription (council_admin); set: a provider's (provider staff),
    -- which receives only events about the people in that provider's reach.
    provider_id     uuid,
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types     text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
    status          text NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason text CHECK (length(disabled_reason) BETWEEN 1 AND 500),
    disabled_at     timestamptz,
    -- The signing secrets (whsec_…), sealed with the service's keys (internal/secret) and bound to
    -- the subscription. During a rotation the previous secret also signs until it expires.
    secret_sealed            bytea NOT NULL,
    previous_secret_sealed   bytea,
    previous_secret_expires  timestamptz,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, provider_id) REFERENCES providers (council_id, id),
    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL) AND (disabled_at IS NULL) = (disabled_reason IS NULL)),
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires IS NULL))
);
CREATE INDEX webhook_subscriptions_list_idx ON webhook_subscriptions (council_id, created_at, id);
CREATE INDEX webhook_subscriptions_active_idx ON webhook_subscriptions (council_id) WHERE status = 'active';

-- The outbox. id is a UUIDv7 (time-ordered); the delivery's webhook-id is derived from it.
CREATE TABLE webhook_events (
    council_id    uuid NOT NULL REFERENCES councils (id),
    id            uuid NOT NULL,
    type          text NOT NULL CHECK (type ~ '^[a-z_]{1,60}\.[a-z_]{1,60}$'),
    resource_id   uuid NOT NULL,
    path          text NOT NULL CHECK (path LIKE '/v1/%' AND length(path) <= 300 AND strpos(path, '?') = 0 AND strpos(path, '#') = 0),
    person_id     uuid,
    provider_id   uuid,
    occurred_at   timestamptz NOT NULL,
    fanned_out_at timestamptz,
    subscriptions integer NOT NULL DEFAULT 0 CHECK (subscriptions >= 0),
    PRIMARY KEY (council_id, id)
);
CREATE INDEX webhook_events_time_idx ON webhook_events (council_id, occurred_at, id);
-- Events not fanned out yet: a sweep re-queues any whose job was lost (it never is: the job is
-- inserted with the event) and the queue's metrics count them.
CREATE INDEX webhook_events_pending_idx ON webhook_events (occurred_at) WHERE fanned_out_at IS NULL;

CREATE TABLE webhook_deliveries (
    council_id      uuid NOT NULL,
    id              uuid NOT NULL,
    subscription_id uuid NOT NULL,
    event_id        uuid NOT NULL,
    -- pending: attempts go on; delivered: a 2xx; failed: the schedule ran out (a replay starts
    -- again); cancelled: the endpoint was disabled (410, or by its owner) before delivery.
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    -- The series is the schedule's count: a replay starts a new one; attempts counts the attempts
    -- of the current series (the policy's argument), total_attempts every attempt ever made.
    series          integer NOT NULL DEFAULT 1 CHECK (series >= 1),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    total_attempts  integer NOT NULL DEFAULT 0 CHECK (total_attempts >= attempts),
    next_attempt_at timestamptz,
    last_status     integer,
    last_error      text CHECK (length(last_error) <= 500),
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, subscription_id, event_id),
    FOREIGN KEY (council_id, subscription_id) REFERENCES webhook_subscriptions (council_id, id),
    FOREIGN KEY (council_id, event_id) REFERENCES webhook_events (council_id, id),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK (status = 'pending' OR next_attempt_at IS NULL)
);
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (council_id, subscription_id, created_at, id);

-- The delivery log: one row per attempt, never updated.
CREATE TABLE webhook_attempts (
    council_id      uuid NOT NULL,
    id              uuid NOT NULL,
    delivery_id     uuid NOT NULL,
    subscription_id uuid NOT NULL,
    series          integer NOT NULL CHECK (series >= 1),
    number          integer NOT NULL CHECK (number >= 1),
    attempted_at    timestamptz NOT NULL,
    duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
    http_status     integer,
    class           text NOT NULL CHECK (class IN ('success', 'gone', 'throttled', 'failure')),
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'disable', 'give_up')),
    error           text CHECK (length(error) <= 500),
    next_attempt_at timestamptz,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, delivery_id, series, number),
    FOREIGN KEY (council_id, delivery_id) REFERENCES webhook_deliveries (council_id, id)
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (council_id, delivery_id, attempted_at, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_subscriptions;
