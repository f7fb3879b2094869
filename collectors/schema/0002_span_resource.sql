-- The resource each span came from (service.name, faas.name, faas.version, cloud.region ...):
-- lets an operator split traces by function version, as the canary's metrics are split.
ALTER TABLE spans ADD COLUMN IF NOT EXISTS resource jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX IF NOT EXISTS spans_faas_idx ON spans ((resource ->> 'faas.name'), (resource ->> 'faas.version'));
