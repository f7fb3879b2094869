-- The dashboard's audit log (package dashboard.schema): every action an operator ran from the
-- dashboard, who ran it, what it was and how it ended. A row is written before the action runs
-- (status 'started') and completed after, so an action that dies midway still shows.
CREATE TABLE IF NOT EXISTS dashboard_actions (
    id           bigserial PRIMARY KEY,
    operator     text NOT NULL,
    action       text NOT NULL,
    target       text,
    note         text,
    command      text[] NOT NULL DEFAULT '{}',
    status       text NOT NULL CHECK (status IN ('started', 'succeeded', 'failed')),
    exit_code    integer,
    output       text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX IF NOT EXISTS dashboard_actions_started_idx ON dashboard_actions (started_at DESC);
CREATE INDEX IF NOT EXISTS dashboard_actions_target_idx ON dashboard_actions (target) WHERE target IS NOT NULL;
