-- The reconciler reads customers in the order of their canonical key (upper-case, code-point order,
-- the same order as every SaaS listing after its sort) and looks keys up by it.
CREATE INDEX IF NOT EXISTS customer_canonical_key_idx ON customer ((upper(cust_no) COLLATE "C"));
