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
-- transaction yet. Also a Portal upload by presigned URLs that the browser never
-- finished: its URLs expired (warnings.upload.presignedUntil, plus a minute for a PUT
-- under way) and the object it is followed by (a file, or a batch's manifest) never
-- arrived in the bucket. Returns how many requests it marked.
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
  WITH unfinished AS (
    UPDATE load_history h SET status = 'abandoned', completed_at = clock_timestamp(),
      duration_ms = (extract(epoch FROM clock_timestamp() - h.started_at) * 1000)::integer,
      error_message = format('the upload was never finished: its presigned URLs expired at %s and %s never arrived, so nothing was loaded%s',
        to_char((h.warnings->'upload'->>'presignedUntil')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
        h.warnings->'upload'->>'follow',
        CASE WHEN h.warnings->'upload'->>'follow' LIKE '%/_manifest.json'
          THEN ' (files of the batch the browser did send stay in the bucket without their manifest: they are never loaded)' ELSE '' END)
    WHERE h.kind = 'command' AND h.status = 'started' AND h.warnings->'upload' ? 'presignedUntil'
      AND (h.warnings->'upload'->>'presignedUntil')::timestamptz < clock_timestamp() - interval '1 minute'
      AND NOT EXISTS (SELECT 1 FROM s3_objects o WHERE o.bucket = h.warnings->'upload'->>'bucket' AND o.key = h.warnings->'upload'->>'follow')
    RETURNING 1
  )
  SELECT n + count(*) INTO n FROM unfinished;
  RETURN n;
END $$;
