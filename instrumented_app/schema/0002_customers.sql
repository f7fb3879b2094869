-- The customer master in Aurora: the source of truth that the SaaS systems mirror.
-- The reconciler diffs these rows against support (external_id), commerce
-- (multipass_identifier) and membership (member_no); all three carry cust_no.
CREATE TABLE IF NOT EXISTS customer (
    cust_no      text PRIMARY KEY CHECK (cust_no ~ '^[A-Za-z0-9_-]{1,64}$'),
    family_name  text NOT NULL,
    given_name   text NOT NULL,
    email        text NOT NULL,
    phone        text,
    status       text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('PENDING', 'ACTIVE', 'DELETED')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Incremental reconciliation reads changes since a watermark in key order.
CREATE INDEX IF NOT EXISTS customer_updated_idx ON customer (updated_at, cust_no);
