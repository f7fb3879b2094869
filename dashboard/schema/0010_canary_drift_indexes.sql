-- Indexes the canary and drift pages need (package dashboard.schema, applied to the audit store).
-- Canary: which functions ran two versions in the last hour (a range on ts across functions), and
-- one version's newest invocations for the judge (function, version, then ts descending).
CREATE INDEX IF NOT EXISTS invocations_ts_idx ON invocations (ts);
CREATE INDEX IF NOT EXISTS invocations_version_idx ON invocations (function_name, function_version, ts);
-- Drift: open findings newest seen first, optionally of one system and kind.
CREATE INDEX IF NOT EXISTS reconcile_finding_open_seen_idx ON reconcile_finding (last_seen DESC)
    WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS reconcile_finding_open_kind_idx ON reconcile_finding (system, kind, last_seen DESC)
    WHERE resolved_at IS NULL;
