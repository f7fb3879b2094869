-- What the saga engine records beyond DESIGN.md's minimum, so a saga can be resumed and explained.
-- saga.failed_step: the step whose failure started the compensation (the API names it).
ALTER TABLE saga ADD COLUMN IF NOT EXISTS failed_step text;
-- saga_step.compensation_key: the idempotency key of the step's compensation (idempotency_key is the
-- forward one); result: what the step produced (SaaS record ids); outcome_unknown: the step failed
-- without a definite answer (a timeout), so it may have written and is compensated too.
ALTER TABLE saga_step ADD COLUMN IF NOT EXISTS compensation_key text UNIQUE;
ALTER TABLE saga_step ADD COLUMN IF NOT EXISTS result jsonb;
ALTER TABLE saga_step ADD COLUMN IF NOT EXISTS outcome_unknown boolean NOT NULL DEFAULT false;
-- The saga that created a customer row: a resumed saga recognises its own row, a new saga for the
-- same cust_no does not take over someone else's.
ALTER TABLE customer ADD COLUMN IF NOT EXISTS saga_id text;
CREATE INDEX IF NOT EXISTS saga_type_status_idx ON saga (saga_type, status, updated_at);
