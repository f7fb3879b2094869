-- Runbook entries of sagas that need (or needed) a person, copied from Aurora's saga_runbook by the
-- saga collector (collectors/sagas/runbooks.py) so that the dashboard shows them from the audit store:
-- what was done, what remains, the exact commands to finish or undo, the before/after diff (ids and
-- statuses, no PII). RESOLVED once the saga finished or a person resolved it (`sagawatch saga resolve`).
CREATE TABLE IF NOT EXISTS saga_runbooks (
    saga_id      text PRIMARY KEY,
    saga_type    text NOT NULL,
    status       text NOT NULL,
    failed_step  text,
    error        text,
    done         jsonb NOT NULL DEFAULT '[]',
    remaining    jsonb NOT NULL DEFAULT '[]',
    commands     jsonb NOT NULL DEFAULT '{}',
    diff         jsonb NOT NULL DEFAULT '[]',
    updated_at   timestamptz NOT NULL,
    resolved_at  timestamptz,
    copied_at    timestamptz NOT NULL DEFAULT now()
);
