-- Drop-bucket claims that die with their loader, and newest-wins by the export's date.
--
-- A claim (s3_objects, status 'loading') is held by one loader (`holder`) for as long as
-- it renews its lease (`lease_until`, renewed during the load: loader/s3/tracking.ts).
-- A loader that dies stops renewing; once the lease has run out, a retry of the event
-- takes the claim over, marks the dead attempt's history `abandoned` and loads. Leases
-- are rows, not session locks, so they hold through a transaction-mode pooler.
--
-- The claim becomes 'loaded' in the load's own transaction, when the load's request row
-- in load_history turns succeeded (trigger load_history_s3_claim): the data and "loaded" commit
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
-- trigger load_history_s3_claim: its current definition is in sql/functions/s3_claims.sql, beside bs_s3_load_committed()
-- bs_s3_newer_export, bs_s3_load_committed: the current definition is in sql/functions/s3_claims.sql
