-- Drop-bucket claims that die with their loader, and newest-wins by the export's date.
--
-- A claim (s3_objects, status 'loading') is held by one loader (`holder`) for as long as
-- it renews its lease (`lease_until`, renewed during the load: loader/s3/tracking.ts).
-- A loader that dies stops renewing; once the lease has run out, a retry of the event
-- takes the claim over, marks the dead attempt's history `abandoned` and loads. Leases
-- are rows, not session locks, so they hold through a transaction-mode pooler.
--
-- The claim becomes 'loaded' in the load's own transaction, when the load's request row
-- in load_history turns succeeded (the trigger below): the data and "loaded" commit
-- together, so a loader that dies after its commit leaves nothing to load again, and a
-- load whose claim was taken over, or that an export with a newer date beat to the
-- commit, is rolled back instead of committing.

ALTER TABLE s3_objects
  ADD COLUMN holder uuid,                 -- the loader holding the claim (one per attempt)
  ADD COLUMN lease_until timestamptz,     -- a 'loading' claim past this is its dead loader's
  ADD COLUMN lost_to bigint REFERENCES s3_objects (id);  -- skipped: the newer export it lost to

-- The tables an object loads (one for a CSV, every file of a batch), with the export's
-- date from the key (`<table>_<date>.csv`, a dated folder); NULL when the key has none.
CREATE TABLE s3_object_tables (
  object_id bigint NOT NULL REFERENCES s3_objects (id) ON DELETE CASCADE,
  table_name text NOT NULL,
  game_id integer,                        -- a game-scoped file: that game's rows only
  export_date date,
  export_time time,                       -- when the key gives the time of day too
  PRIMARY KEY (object_id, table_name)
);
CREATE INDEX s3_object_tables_table_idx ON s3_object_tables (table_name, export_date);
COMMENT ON TABLE s3_object_tables IS 'BenchSight Ops: what each drop-bucket object loads, and the export date of its key (newest wins)';

-- The export that makes `p_object` stale, if any: for one of its tables, an object with
-- a later export date that loaded (or, unless p_committed_only, is loading under a live
-- lease). A whole-table export covers every game; a game-scoped file is compared with
-- whole-table exports and with files of its own game. Same date: a time of day decides
-- when both keys give one; otherwise neither is older. Undated keys are not compared.
CREATE FUNCTION bs_s3_newer_export(p_object bigint, p_committed_only boolean DEFAULT false)
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

-- Runs in the load's transaction when its request row turns succeeded (or partial).
CREATE FUNCTION bs_s3_load_committed() RETURNS trigger
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

CREATE TRIGGER load_history_s3_claim
  AFTER UPDATE OF status ON load_history
  FOR EACH ROW
  WHEN (NEW.kind = 'request' AND OLD.status = 'started' AND NEW.status IN ('succeeded', 'partial')
        AND NOT NEW.dry_run AND NEW.warnings->'context' ? 's3_claim')
  EXECUTE FUNCTION bs_s3_load_committed();

REVOKE EXECUTE ON FUNCTION bs_s3_newer_export(bigint, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION bs_s3_load_committed() FROM PUBLIC;

SELECT apply_exposure();
