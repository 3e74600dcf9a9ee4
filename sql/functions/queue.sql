-- The job queue (etl_queue, sql/migrations/000002_operations.sql): ETL runs, and loads and
-- deletes requested from Slack. loader/queue/queue.ts calls each function.
-- Claim order: priority DESC (higher number first), then requested_at (oldest first), then
-- id. A job is claimed with FOR UPDATE SKIP LOCKED, so parallel workers never take the same
-- one. A running job whose worker stopped renewing its lock (locked_at older than the lock
-- timeout) is claimable again: the worker is presumed dead. Each claim counts an attempt.

-- Queues a job, or joins the pending one for the same game and operation (the unique
-- partial index etl_queue_one_pending_idx allows one): the joined job keeps its payload,
-- takes the higher priority, and lists the joiner in payload.joined.
CREATE OR REPLACE FUNCTION etl_queue_enqueue(p_operation text, p_game_id integer, p_payload jsonb, p_priority integer,
                                  p_requested_by text, p_max_attempts integer)
RETURNS TABLE (job_id bigint, joined boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
BEGIN
  FOR attempt IN 1..10 LOOP
    INSERT INTO etl_queue (operation, game_id, payload, priority, requested_by, max_attempts)
    VALUES (p_operation, p_game_id, coalesce(p_payload, '{}'::jsonb), coalesce(p_priority, 5), p_requested_by, coalesce(p_max_attempts, 3))
    ON CONFLICT ((coalesce(game_id, -1)), operation, (coalesce(payload->>'dedupe_key', ''))) WHERE status = 'pending' DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
      job_id := v_id; joined := false; RETURN NEXT; RETURN;
    END IF;
    UPDATE etl_queue q
    SET priority = greatest(q.priority, coalesce(p_priority, q.priority)),
        payload = jsonb_set(q.payload, '{joined}', coalesce(q.payload->'joined', '[]'::jsonb) || jsonb_build_array(
                    jsonb_build_object('requested_by', p_requested_by, 'requested_at', now(), 'payload', coalesce(p_payload, '{}'::jsonb))))
    WHERE q.status = 'pending' AND coalesce(q.game_id, -1) = coalesce(p_game_id, -1) AND q.operation = p_operation
      AND coalesce(q.payload->>'dedupe_key', '') = coalesce(p_payload->>'dedupe_key', '')
    RETURNING q.id INTO v_id;
    IF v_id IS NOT NULL THEN
      job_id := v_id; joined := true; RETURN NEXT; RETURN;
    END IF;
    -- The pending job was claimed between the two statements: queue a new one.
  END LOOP;
  RAISE EXCEPTION 'could not queue % for game %: the pending job kept changing', p_operation, p_game_id;
END $$;

-- Claims the next runnable job for `p_worker` among `p_operations` (NULL = any). A taken-back
-- job that has used all its attempts is failed instead, and the next one is looked at.
CREATE OR REPLACE FUNCTION etl_queue_claim(p_worker text, p_operations text[], p_lock_timeout interval)
RETURNS SETOF etl_queue
LANGUAGE plpgsql AS $$
DECLARE
  j etl_queue;
BEGIN
  LOOP
    SELECT * INTO j FROM etl_queue q
    WHERE ((q.status = 'pending' AND q.run_after <= now())
           OR (q.status = 'running' AND q.locked_at < now() - p_lock_timeout))
      AND (p_operations IS NULL OR q.operation = ANY (p_operations))
    ORDER BY q.priority DESC, q.requested_at, q.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    IF j.status = 'running' AND j.attempts >= j.max_attempts THEN
      UPDATE etl_queue SET status = 'failed', completed_at = now(),
        error_message = format('worker %s stopped responding during attempt %s of %s (its lock expired at %s); no attempts left',
                               j.locked_by, j.attempts, j.max_attempts, j.locked_at + p_lock_timeout)
      WHERE id = j.id;
      CONTINUE;
    END IF;
    UPDATE etl_queue SET status = 'running', locked_by = p_worker, locked_at = now(), started_at = now(),
      attempts = attempts + 1,
      error_message = CASE WHEN j.status = 'running'
                           THEN format('attempt %s: worker %s stopped responding (its lock expired at %s); taken back by %s',
                                       j.attempts, j.locked_by, j.locked_at + p_lock_timeout, p_worker)
                           ELSE error_message END
    WHERE id = j.id
    RETURNING * INTO j;
    RETURN NEXT j;
    RETURN;
  END LOOP;
END $$;

-- Claims one given job now, whatever its priority or run_after: a pending job, a failed
-- one (it gets one more attempt) or a running one whose lock expired. Returns nothing when
-- the job is running elsewhere, succeeded, or does not exist (the caller says which).
CREATE OR REPLACE FUNCTION etl_queue_claim_job(p_id bigint, p_worker text, p_lock_timeout interval)
RETURNS SETOF etl_queue
LANGUAGE plpgsql AS $$
DECLARE
  j etl_queue;
BEGIN
  SELECT * INTO j FROM etl_queue WHERE id = p_id FOR UPDATE SKIP LOCKED;
  IF NOT FOUND OR NOT (j.status IN ('pending', 'failed') OR (j.status = 'running' AND j.locked_at < now() - p_lock_timeout)) THEN
    RETURN;
  END IF;
  UPDATE etl_queue SET status = 'running', locked_by = p_worker, locked_at = now(), started_at = now(), completed_at = NULL,
    attempts = attempts + 1, max_attempts = greatest(max_attempts, attempts + 1), run_after = least(run_after, now())
  WHERE id = p_id
  RETURNING * INTO j;
  RETURN NEXT j;
END $$;

-- A live worker renews its lock; false when the job is no longer its own.
CREATE OR REPLACE FUNCTION etl_queue_heartbeat(p_id bigint, p_worker text) RETURNS boolean
LANGUAGE sql AS $$
  WITH u AS (UPDATE etl_queue SET locked_at = now() WHERE id = p_id AND status = 'running' AND locked_by = p_worker RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM u)
$$;

-- Marks the job succeeded with its result. Nothing (no row) when the job was taken back
-- from this worker meanwhile: the new owner's outcome counts.
CREATE OR REPLACE FUNCTION etl_queue_complete(p_id bigint, p_worker text, p_result jsonb)
RETURNS SETOF etl_queue
LANGUAGE sql AS $$
  UPDATE etl_queue SET status = 'succeeded', completed_at = now(), result = p_result
  WHERE id = p_id AND status = 'running' AND locked_by = p_worker
  RETURNING *
$$;

-- Records a failed attempt. The job goes back to pending after `p_retry_in` while it has
-- attempts left (and the failure is not permanent), else it is failed. Every attempt's
-- error is kept in result.errors; error_message holds the last one.
CREATE OR REPLACE FUNCTION etl_queue_fail(p_id bigint, p_worker text, p_error text, p_retry_in interval, p_permanent boolean)
RETURNS SETOF etl_queue
LANGUAGE plpgsql AS $$
DECLARE
  j etl_queue;
  errors jsonb;
  other bigint;
BEGIN
  SELECT * INTO j FROM etl_queue WHERE id = p_id AND status = 'running' AND locked_by = p_worker FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  errors := coalesce(j.result->'errors', '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
              'attempt', j.attempts, 'worker', p_worker, 'at', now(), 'error', p_error));
  SELECT q.id INTO other FROM etl_queue q
  WHERE q.status = 'pending' AND coalesce(q.game_id, -1) = coalesce(j.game_id, -1) AND q.operation = j.operation AND q.id <> j.id;

  IF p_permanent OR j.attempts >= j.max_attempts THEN
    UPDATE etl_queue SET status = 'failed', completed_at = now(), error_message = p_error,
      result = jsonb_build_object('errors', errors)
    WHERE id = p_id;
  ELSIF other IS NOT NULL THEN
    UPDATE etl_queue SET status = 'failed', completed_at = now(),
      error_message = format('%s (not retried: job %s for the same game and operation is pending and will do the work)', p_error, other),
      result = jsonb_build_object('errors', errors)
    WHERE id = p_id;
  ELSE
    BEGIN
      UPDATE etl_queue SET status = 'pending', run_after = now() + p_retry_in, locked_by = NULL, locked_at = NULL,
        error_message = p_error, result = jsonb_build_object('errors', errors)
      WHERE id = p_id;
    EXCEPTION WHEN unique_violation THEN
      UPDATE etl_queue SET status = 'failed', completed_at = now(),
        error_message = p_error || ' (not retried: a job for the same game and operation was queued meanwhile and will do the work)',
        result = jsonb_build_object('errors', errors)
      WHERE id = p_id;
    END;
  END IF;
  RETURN QUERY SELECT * FROM etl_queue WHERE id = p_id;
END $$;
