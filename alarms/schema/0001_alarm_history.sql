-- Alarm states and their history in the audit store (issue 6): what the dashboard's alarm view
-- and `sagawatch alarms status` read. Written by the local evaluator's audit-store action, only on
-- a change of state, as CloudWatch fires actions.

-- Every change of state, with CloudWatch's reason and reason data.
CREATE TABLE IF NOT EXISTS alarm_transitions (
    id            bigserial PRIMARY KEY,
    alarm_name    text NOT NULL,
    old_state     text CHECK (old_state IN ('OK', 'ALARM', 'INSUFFICIENT_DATA')),
    new_state     text NOT NULL CHECK (new_state IN ('OK', 'ALARM', 'INSUFFICIENT_DATA')),
    reason        text NOT NULL,
    reason_data   jsonb NOT NULL DEFAULT '{}'::jsonb,
    changed_at    timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    -- a transition recorded twice (a retried pass) is one transition
    UNIQUE (alarm_name, changed_at, new_state)
);
CREATE INDEX IF NOT EXISTS alarm_transitions_changed_idx ON alarm_transitions (changed_at);
CREATE INDEX IF NOT EXISTS alarm_transitions_alarm_idx ON alarm_transitions (alarm_name, changed_at);

-- The current state per alarm: the latest transition, kept beside the history for a cheap read.
CREATE TABLE IF NOT EXISTS alarm_states (
    alarm_name    text PRIMARY KEY,
    description   text,
    state         text NOT NULL CHECK (state IN ('OK', 'ALARM', 'INSUFFICIENT_DATA')),
    reason        text NOT NULL,
    reason_data   jsonb NOT NULL DEFAULT '{}'::jsonb,
    changed_at    timestamptz NOT NULL,
    namespace     text,
    metric_name   text
);
