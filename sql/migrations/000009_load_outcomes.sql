-- The outcomes a load can have, beside started / succeeded / failed / refused:
--   cancelled  stopped on request (Ctrl-C in the CLI): rolled back, nothing changed;
--   partial    committed, but with rejected rows past what the request allowed (see
--              loader/engine/load.ts): the rows that were loaded stand, and the outcome
--              says loudly that some did not;
--   abandoned  its process died before it ended (a killed loader): rolled back by the
--              server, found out later and marked so.
ALTER TABLE load_history DROP CONSTRAINT load_history_status_check;
ALTER TABLE load_history ADD CONSTRAINT load_history_status_check
  CHECK (status IN ('started', 'succeeded', 'failed', 'refused', 'cancelled', 'partial', 'abandoned'));
