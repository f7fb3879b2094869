-- The reconciler's tables in the audit store (package reconciler.schema).

-- One row per execution of `sagawatch reconcile` (or one scheduled pass).
CREATE TABLE IF NOT EXISTS reconcile_run (
    run_id       text PRIMARY KEY,
    mode         text NOT NULL CHECK (mode IN ('incremental', 'full')),
    systems      text[] NOT NULL,
    key_from     text,
    key_to       text,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    duration_s   double precision,
    status       text NOT NULL CHECK (status IN ('running', 'clean', 'drift', 'error')),
    counts       jsonb NOT NULL DEFAULT '{}'::jsonb,   -- findings per system and kind
    deferred     jsonb NOT NULL DEFAULT '{}'::jsonb,   -- deferred keys per reason
    rows_read    jsonb NOT NULL DEFAULT '{}'::jsonb,   -- per system: aurora rows, saas rows, keys
    errors       jsonb NOT NULL DEFAULT '[]'::jsonb,   -- one message per failed system (redacted)
    repairs      jsonb NOT NULL DEFAULT '{}'::jsonb    -- planned / applied / failed
);
CREATE INDEX IF NOT EXISTS reconcile_run_started_idx ON reconcile_run (started_at DESC);

-- Findings with a lifecycle: keyed by fingerprint (kind, system, key, field); values are masked.
CREATE TABLE IF NOT EXISTS reconcile_finding (
    fingerprint   text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('missing_in_saas', 'orphan_in_saas', 'field_mismatch',
                                                'duplicate_in_saas', 'stale')),
    system        text NOT NULL,
    key           text NOT NULL,
    field         text,
    aurora_value  text,
    saas_value    text,
    saas_ids      text[] NOT NULL DEFAULT '{}',
    detail        text NOT NULL DEFAULT '',
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    resolved_at   timestamptz,
    first_run     text NOT NULL REFERENCES reconcile_run (run_id),
    last_run      text NOT NULL REFERENCES reconcile_run (run_id)
);
CREATE INDEX IF NOT EXISTS reconcile_finding_open_idx ON reconcile_finding (system, key)
    WHERE resolved_at IS NULL;

-- Where the last successful incremental (or full) run stopped, per system and side.
CREATE TABLE IF NOT EXISTS reconcile_watermark (
    system      text NOT NULL,
    side        text NOT NULL CHECK (side IN ('aurora', 'saas')),
    updated_at  timestamptz NOT NULL,
    cursor      text,
    run_id      text NOT NULL REFERENCES reconcile_run (run_id),
    PRIMARY KEY (system, side)
);

-- Keys the next incremental run must judge again: deferred (in-flight saga, grace window) or repaired.
CREATE TABLE IF NOT EXISTS reconcile_recheck (
    system  text NOT NULL,
    key     text NOT NULL,
    reason  text NOT NULL,
    run_id  text NOT NULL REFERENCES reconcile_run (run_id),
    PRIMARY KEY (system, key)
);

-- Every repair action a run planned and, with --apply, executed.
CREATE TABLE IF NOT EXISTS reconcile_repair (
    id               bigserial PRIMARY KEY,
    run_id           text NOT NULL REFERENCES reconcile_run (run_id),
    fingerprint      text NOT NULL,
    system           text NOT NULL,
    key              text NOT NULL,
    action           text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'flag')),
    saas_id          text,
    idempotency_key  text NOT NULL,
    correlation_id   text,
    status           text NOT NULL CHECK (status IN ('planned', 'applied', 'failed', 'flagged')),
    error            text,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reconcile_repair_run_idx ON reconcile_repair (run_id);
