-- A load request is alive while its transaction holds its request lock; history shows one
-- whose lock is free and that never ended as `abandoned` (its process was killed, its
-- connection lost: the server rolled it back). load_history.alive_lock holds the key.

-- The key of a request's lock: every transaction of the request takes it first
-- (pg_advisory_xact_lock), so it is held exactly while the request's work can still
-- commit. A transaction-level lock: it works through a transaction-mode pooler.
CREATE OR REPLACE FUNCTION bs_request_lock(p_request uuid) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT hashtextextended('benchsight:request:' || p_request::text, 0) $$;

-- Marks `abandoned` every started request (and its table rows) whose lock nobody holds.
-- A row younger than two seconds is left alone: its request may not have begun its
-- transaction yet. Returns how many requests it marked.
CREATE OR REPLACE FUNCTION bs_mark_abandoned() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  WITH dead AS (
    -- (OFFSET 0 keeps the lock tries to the started rows: no lock for every row read)
    SELECT request_id FROM (
      SELECT request_id, alive_lock FROM load_history
      WHERE status = 'started' AND kind = 'request' AND alive_lock IS NOT NULL
        AND started_at < clock_timestamp() - interval '2 seconds'
      OFFSET 0
    ) started
    WHERE pg_try_advisory_xact_lock_shared(alive_lock)
  ), marked AS (
    UPDATE load_history h SET status = 'abandoned', completed_at = clock_timestamp(),
      duration_ms = (extract(epoch FROM clock_timestamp() - h.started_at) * 1000)::integer,
      error_message = 'the process running it ended before the load finished (killed, or its connection was lost): '
        || 'the database rolled it back, nothing was changed'
    FROM dead WHERE h.request_id = dead.request_id AND h.status = 'started'
    RETURNING h.kind
  )
  SELECT count(*) FILTER (WHERE kind = 'request') INTO n FROM marked;
  RETURN n;
END $$;
