-- A request is alive while its transaction holds its request lock; history shows one
-- whose lock is free and that never ended as `abandoned` (its process was killed, its
-- connection lost: the server rolled it back). And rejected rows are kept for a set time.
-- bs_request_lock: the current definition is in sql/functions/liveness.sql

-- Set on the request rows of loads and deletes (NULL: a row whose liveness is not tracked).
ALTER TABLE load_history ADD COLUMN alive_lock bigint;
-- bs_mark_abandoned: the current definition is in sql/functions/liveness.sql

-- Settings a database administrator may change with SQL.
CREATE TABLE bs_settings (
  key text PRIMARY KEY,
  value text NOT NULL,
  description text NOT NULL
);
INSERT INTO bs_settings VALUES
  ('rejects_retention_days', '30', 'days a rejected row (load_rejects) is kept; each load purges older ones');
-- bs_purge_rejects: the current definition is in sql/functions/retention.sql
CREATE INDEX load_rejects_rejected_at_idx ON load_rejects (rejected_at);
