-- The queue worker's jobs (DynamoDB, instrumented_app.jobs), as of the collector's last pass: status,
-- retry count and last error by correlation id for the dashboard and `sagawatch trace` (the transaction
-- view reads every *job* table that has a correlation_id). The payload (PII) is never copied.
-- Upserted by job_id and only forward in updated_at, so passes that repeat or race change nothing.
CREATE TABLE IF NOT EXISTS jobs (
    job_id          text PRIMARY KEY,
    source_table    text NOT NULL,
    kind            text NOT NULL,
    cust_no         text,
    status          text NOT NULL,
    correlation_id  text,
    retry_count     integer NOT NULL DEFAULT 0,
    redrive_count   integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    collected_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobs_correlation_idx ON jobs (correlation_id) WHERE correlation_id IS NOT NULL;
-- The watermark read (newest updated_at) and retention's batched deletes.
CREATE INDEX IF NOT EXISTS jobs_updated_idx ON jobs (updated_at);
CREATE INDEX IF NOT EXISTS jobs_open_idx ON jobs (status) WHERE status <> 'SUCCEEDED';
