-- The drop bucket's objects (s3_objects, s3_object_tables: sql/migrations/000004 and
-- 000010): the order of S3 events of one key, newest-wins by export date, and the claim
-- that turns `loaded` in the load's own transaction (trigger load_history_s3_claim runs
-- bs_s3_load_committed when the load's request row turns succeeded or partial): a load
-- whose claim was taken over, or that a newer export beat, is rolled back instead of
-- committing. loader/s3/README.md tells the whole story.

-- Left-pads a sequencer so that two of them compare as S3 documents it.
CREATE OR REPLACE FUNCTION bs_sequencer_order(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT lpad(upper(coalesce(s, '')), 32, '0') $$;

-- The export that makes `p_object` stale, if any: for one of its tables, an object with
-- a later export date that loaded (or, unless p_committed_only, is loading under a live
-- lease). A whole-table export covers every game; a game-scoped file is compared with
-- whole-table exports and with files of its own game. Same date: a time of day decides
-- when both keys give one; otherwise neither is older. Undated keys are not compared.
CREATE OR REPLACE FUNCTION bs_s3_newer_export(p_object bigint, p_committed_only boolean DEFAULT false)
RETURNS TABLE (object_id bigint, bucket text, key text, table_name text, export_date date, export_time time, history_id bigint)
LANGUAGE sql STABLE AS
$$
  SELECT o.id, o.bucket, o.key, n.table_name, n.export_date, n.export_time, o.history_id
  FROM s3_object_tables m
  JOIN s3_object_tables n ON n.table_name = m.table_name AND n.object_id <> m.object_id
  JOIN s3_objects o ON o.id = n.object_id
  WHERE m.object_id = p_object
    AND m.export_date IS NOT NULL AND n.export_date IS NOT NULL
    AND (n.game_id IS NULL OR n.game_id = m.game_id)
    AND (n.export_date > m.export_date OR (n.export_date = m.export_date AND n.export_time > m.export_time))
    AND (o.status = 'loaded' OR (NOT p_committed_only AND o.status = 'loading' AND o.lease_until > now()))
  ORDER BY n.export_date DESC, n.export_time DESC NULLS LAST, o.id DESC
  LIMIT 1
$$;

-- Runs in the load's transaction when its request row turns succeeded (or partial): the
-- claim turns loaded, or the load is refused (taken over, or an older export than one
-- that loaded meanwhile).
CREATE OR REPLACE FUNCTION bs_s3_load_committed() RETURNS trigger
LANGUAGE plpgsql AS
$$
DECLARE
  claim jsonb := NEW.warnings->'context'->'s3_claim';
  obj s3_objects;
  newer record;
BEGIN
  -- Locks the claim: a retry taking it over waits for this transaction, then sees 'loaded'.
  SELECT * INTO obj FROM s3_objects WHERE id = (claim->>'id')::bigint FOR UPDATE;
  IF NOT FOUND OR obj.status <> 'loading' OR obj.holder IS DISTINCT FROM (claim->>'holder')::uuid THEN
    RAISE EXCEPTION 's3://%/% was taken over by another loader after this one''s claim lapsed: this load is not kept (the other one loads the object)',
      coalesce(obj.bucket, '?'), coalesce(obj.key, '?');
  END IF;
  SELECT * INTO newer FROM bs_s3_newer_export(obj.id, true);
  IF FOUND THEN
    RAISE EXCEPTION 's3://%/% is an older export of % than s3://%/% (%), which loaded while this one was loading: this load is not kept (newest wins)',
      obj.bucket, obj.key, newer.table_name, newer.bucket, newer.key,
      newer.export_date::text || coalesce(' ' || newer.export_time::text, '');
  END IF;
  UPDATE s3_objects SET status = 'loaded', request_id = NEW.request_id, history_id = NEW.id,
    completed_at = now(), lease_until = NULL, note = NULL
  WHERE id = obj.id;
  RETURN NULL;
END
$$;

-- Its trigger: the load's request row turning succeeded or partial.
CREATE OR REPLACE TRIGGER load_history_s3_claim
  AFTER UPDATE OF status ON load_history
  FOR EACH ROW
  WHEN (NEW.kind = 'request' AND OLD.status = 'started' AND NEW.status IN ('succeeded', 'partial')
        AND NOT NEW.dry_run AND NEW.warnings->'context' ? 's3_claim')
  EXECUTE FUNCTION bs_s3_load_committed();
