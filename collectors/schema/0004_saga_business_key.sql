-- The business key a saga acts on (the customer saga's cust_no, read from Aurora's saga.payload):
-- it links a transaction to the reconciler's findings, which are keyed by it. Only the key is
-- copied, never the payload (which holds the customer's PII).
ALTER TABLE sagas ADD COLUMN IF NOT EXISTS business_key text;
CREATE INDEX IF NOT EXISTS sagas_business_key_idx ON sagas (business_key) WHERE business_key IS NOT NULL;
