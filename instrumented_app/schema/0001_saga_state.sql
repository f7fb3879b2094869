-- Saga state, per DESIGN.md: one row per saga instance, one per step.
CREATE TABLE IF NOT EXISTS saga (
    id              text PRIMARY KEY,
    saga_type       text NOT NULL,
    correlation_id  text NOT NULL,
    status          text NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPENSATING', 'SUCCEEDED',
                                                    'COMPENSATED', 'FAILED', 'MANUAL_INTERVENTION')),
    current_step    text,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deadline        timestamptz,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb
);
-- The stuck-saga query reads live sagas by age; terminal ones are the bulk and stay out of this index.
CREATE INDEX IF NOT EXISTS saga_live_idx ON saga (updated_at)
    WHERE status IN ('PENDING', 'RUNNING', 'COMPENSATING');
CREATE INDEX IF NOT EXISTS saga_correlation_idx ON saga (correlation_id);

CREATE TABLE IF NOT EXISTS saga_step (
    saga_id          text NOT NULL REFERENCES saga (id) ON DELETE CASCADE,
    seq              integer NOT NULL CHECK (seq >= 0),
    name             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED',
                                                     'COMPENSATING', 'COMPENSATED', 'SKIPPED')),
    idempotency_key  text NOT NULL UNIQUE,
    started_at       timestamptz,
    finished_at      timestamptz,
    error            text,
    PRIMARY KEY (saga_id, seq)
);
