-- A run's open findings are read back by run (reports, repairs): without this, every report scans
-- the whole findings table.
CREATE INDEX IF NOT EXISTS reconcile_finding_last_run_idx ON reconcile_finding (last_run)
    WHERE resolved_at IS NULL;
