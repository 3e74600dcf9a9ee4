-- A load stopped on request (Ctrl-C in the CLI) rolls back and is recorded as
-- `cancelled`, not `failed`: nothing is wrong with its files.
ALTER TABLE load_history DROP CONSTRAINT load_history_status_check;
ALTER TABLE load_history ADD CONSTRAINT load_history_status_check
  CHECK (status IN ('started', 'succeeded', 'failed', 'refused', 'cancelled'));
