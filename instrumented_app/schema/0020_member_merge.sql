-- The member merge saga (名寄せ): which customers were merged into which, and what a person needs when
-- a merge stops past its point of no return.

-- One row per losing customer of a merge: claimed while the merge runs (a second merge of the same
-- customer is refused), MERGED once its records are gone. The reconciler and the dashboard read
-- where a cust_no went from here.
CREATE TABLE IF NOT EXISTS customer_merge (
    loser_cust_no   text PRIMARY KEY,
    target_cust_no  text NOT NULL,
    saga_id         text NOT NULL REFERENCES saga (id),
    state           text NOT NULL CHECK (state IN ('CLAIMED', 'MERGED')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS customer_merge_saga_idx ON customer_merge (saga_id);

-- A runbook entry per saga that needs a person: what was done, what remains, the exact commands to
-- finish or undo it, and the before/after diff of the records it touched (ids and statuses, no PII).
CREATE TABLE IF NOT EXISTS saga_runbook (
    saga_id      text PRIMARY KEY REFERENCES saga (id),
    saga_type    text NOT NULL,
    status       text NOT NULL CHECK (status IN ('OPEN', 'RESOLVED')),
    failed_step  text,
    error        text,
    done         jsonb NOT NULL DEFAULT '[]',
    remaining    jsonb NOT NULL DEFAULT '[]',
    commands     jsonb NOT NULL DEFAULT '{}',
    diff         jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);

-- Append-only: one entry each time a run of such a saga ends, with its outcome and diff.
CREATE TABLE IF NOT EXISTS saga_audit_log (
    id              bigserial PRIMARY KEY,
    saga_id         text NOT NULL REFERENCES saga (id),
    saga_type       text NOT NULL,
    correlation_id  text NOT NULL,
    event           text NOT NULL,
    status          text NOT NULL,
    detail          jsonb NOT NULL DEFAULT '{}',
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS saga_audit_log_saga_idx ON saga_audit_log (saga_id, id);
