-- When a queue was last peeked and the oldest message it showed: a peek counts as a receive (it
-- raises the messages' ApproximateReceiveCount), so the collector peeks again only when the depth
-- changed or a while has passed, and ages the remembered oldest message in between.
ALTER TABLE queue_state ADD COLUMN IF NOT EXISTS oldest_sent_at timestamptz;
ALTER TABLE queue_state ADD COLUMN IF NOT EXISTS peeked_at timestamptz;
