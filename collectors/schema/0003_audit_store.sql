-- The audit store's collected telemetry (issue 5). Time series are partitioned by day
-- (collectors.partitions creates partitions ahead of the rows, collectors.retention drops
-- old ones); current-state tables (sagas, DLQ messages) are trimmed by batched deletes.

-- Where each CloudWatch Logs stream was read up to. Written in the same transaction as the
-- rows of the page it stands for, so a pass that dies midway leaves rows and position agreeing.
CREATE TABLE IF NOT EXISTS log_positions (
    log_group          text NOT NULL,
    log_stream         text NOT NULL,
    token              text,
    next_seq           bigint NOT NULL DEFAULT 0,
    last_ingestion_ms  bigint,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_group, log_stream)
);

-- One row per CloudWatch Logs event: contract JSON lines parsed, everything else kept raw.
-- seq is the event's ordinal in its stream: (group, stream, seq) is unique, so no line is stored twice.
CREATE TABLE IF NOT EXISTS log_lines (
    ts                timestamptz NOT NULL,
    log_group         text NOT NULL,
    log_stream        text NOT NULL,
    seq               bigint NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('json', 'platform', 'text', 'emf')),
    function_name     text,
    function_version  text,
    level             text,
    request_id        text,
    correlation_id    text,
    saga_id           text,
    saga_type         text,
    saga_step         text,
    trace_id          text,
    span_id           text,
    error_code        text,
    message           text,
    raw               text NOT NULL,
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_group, log_stream, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS log_lines_correlation_idx ON log_lines (correlation_id, ts)
    WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS log_lines_trace_idx ON log_lines (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS log_lines_request_idx ON log_lines (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS log_lines_function_idx ON log_lines (function_name, ts);

-- One row per Lambda REPORT line: the platform's own account of an invocation.
CREATE TABLE IF NOT EXISTS invocations (
    ts                timestamptz NOT NULL,
    log_group         text NOT NULL,
    log_stream        text NOT NULL,
    seq               bigint NOT NULL,
    function_name     text,
    function_version  text,
    request_id        text NOT NULL,
    duration_ms       double precision,
    billed_ms         double precision,
    memory_mb         integer,
    max_memory_mb     integer,
    init_ms           double precision,
    status            text,
    error_type        text,
    PRIMARY KEY (log_group, log_stream, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS invocations_request_idx ON invocations (request_id);
CREATE INDEX IF NOT EXISTS invocations_function_idx ON invocations (function_name, ts);

-- What could not be collected or parsed; the pass that met it went on.
CREATE TABLE IF NOT EXISTS collector_errors (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    kind    text NOT NULL,
    source  text NOT NULL,
    detail  text NOT NULL,
    sample  text
);
CREATE INDEX IF NOT EXISTS collector_errors_at_idx ON collector_errors (at);

-- Queue depth samples, one per queue per pass, with the queue -> DLQ relation as it was then.
CREATE TABLE IF NOT EXISTS queue_samples (
    sampled_at         timestamptz NOT NULL,
    queue_name         text NOT NULL,
    queue_url          text NOT NULL,
    queue_arn          text,
    visible            bigint NOT NULL,
    in_flight          bigint NOT NULL,
    delayed            bigint NOT NULL,
    oldest_age_s       double precision,
    dlq_name           text,
    max_receive_count  integer,
    is_dlq             boolean NOT NULL DEFAULT false
) PARTITION BY RANGE (sampled_at);
CREATE INDEX IF NOT EXISTS queue_samples_queue_idx ON queue_samples (queue_name, sampled_at DESC);

-- The latest sample per queue (upserted each pass), so "queues now" never scans the history.
CREATE TABLE IF NOT EXISTS queue_state (
    queue_name         text PRIMARY KEY,
    sampled_at         timestamptz NOT NULL,
    queue_url          text NOT NULL,
    queue_arn          text,
    visible            bigint NOT NULL,
    in_flight          bigint NOT NULL,
    delayed            bigint NOT NULL,
    oldest_age_s       double precision,
    dlq_name           text,
    max_receive_count  integer,
    is_dlq             boolean NOT NULL DEFAULT false
);

-- Messages seen in dead-letter queues (peeked, never consumed); bodies are stored PII-masked.
CREATE TABLE IF NOT EXISTS dlq_messages (
    queue_name      text NOT NULL,
    message_id      text NOT NULL,
    correlation_id  text,
    sent_at         timestamptz,
    receive_count   integer,
    body            text,
    attributes      jsonb NOT NULL DEFAULT '{}'::jsonb,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (queue_name, message_id)
);
CREATE INDEX IF NOT EXISTS dlq_messages_correlation_idx ON dlq_messages (correlation_id)
    WHERE correlation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS dlq_messages_seen_idx ON dlq_messages (last_seen_at);

-- One view of sagas: Aurora's saga rows and Step Functions executions, with the stuck flag
-- computed at collection time (sagawatch.contracts.is_stuck, thresholds per type from settings).
CREATE TABLE IF NOT EXISTS sagas (
    saga_id         text PRIMARY KEY,
    source          text NOT NULL CHECK (source IN ('aurora', 'stepfunctions')),
    saga_type       text NOT NULL,
    correlation_id  text,
    status          text NOT NULL,
    current_step    text,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    failed_state    text,
    error           text,
    cause           text,
    started_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deadline        timestamptz,
    stuck           boolean NOT NULL DEFAULT false,
    age_s           double precision NOT NULL DEFAULT 0,
    idle_s          double precision NOT NULL DEFAULT 0,
    checked_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sagas_correlation_idx ON sagas (correlation_id);
CREATE INDEX IF NOT EXISTS sagas_stuck_idx ON sagas (saga_type) WHERE stuck;
CREATE INDEX IF NOT EXISTS sagas_updated_idx ON sagas (updated_at);

CREATE TABLE IF NOT EXISTS saga_steps (
    saga_id          text NOT NULL REFERENCES sagas (saga_id) ON DELETE CASCADE,
    seq              integer NOT NULL,
    name             text NOT NULL,
    status           text NOT NULL,
    idempotency_key  text,
    started_at       timestamptz,
    finished_at      timestamptz,
    error            text,
    PRIMARY KEY (saga_id, seq)
);

-- CloudWatch metrics per period: the app's EMF metrics and the alarm-relevant service metrics.
CREATE TABLE IF NOT EXISTS metric_points (
    namespace     text NOT NULL,
    name          text NOT NULL,
    dimensions    jsonb NOT NULL DEFAULT '{}'::jsonb,
    ts            timestamptz NOT NULL,
    period_s      integer NOT NULL,
    sum           double precision,
    sample_count  double precision,
    minimum       double precision,
    maximum       double precision,
    collected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace, name, dimensions, period_s, ts)
) PARTITION BY RANGE (ts);

-- Spans: the transaction view finds a transaction's traces by correlation id (spans_correlation_idx)
-- and then every span of those traces by the primary key's leading trace_id; retention deletes
-- by start_time (spans_start_idx). Nothing more is needed here.
