-- Spans received over OTLP/HTTP, indexed by trace and by correlation id.
CREATE TABLE IF NOT EXISTS spans (
    trace_id        text NOT NULL,
    span_id         text NOT NULL,
    parent_span_id  text,
    name            text NOT NULL,
    kind            text,
    service         text,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    duration_ms     double precision NOT NULL,
    status_code     text,
    status_message  text,
    correlation_id  text,
    attributes      jsonb NOT NULL DEFAULT '{}'::jsonb,
    events          jsonb NOT NULL DEFAULT '[]'::jsonb,
    links           jsonb NOT NULL DEFAULT '[]'::jsonb,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_correlation_idx ON spans (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS spans_start_idx ON spans (start_time);
