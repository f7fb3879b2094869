-- The collectors read sagas changed since a watermark, terminal ones included; the partial
-- index on live sagas does not serve that, so without this each pass scans the table.
CREATE INDEX IF NOT EXISTS saga_updated_idx ON saga (updated_at);
