-- Tracker exports as they really are: an odd value (a negative stoppage time, a shift that
-- ends before it starts, a jersey number the roster lacks, an event index seen twice) is
-- staged as written, and reported here, one row per value: which game, which shift (its
-- 1-based place in the export) or event (its idx), which field, which value.
-- loader/tracker/findings.ts finds them; tracker_stage_game (functions/tracker.sql) replaces
-- the game's rows with each export; `benchsight ingest` and `etl run` show them.
CREATE TABLE tracker_findings (
  id bigserial PRIMARY KEY,
  game_id integer NOT NULL,
  kind text NOT NULL,
  item text NOT NULL CHECK (item IN ('shift', 'event')),
  item_index integer NOT NULL,
  field text NOT NULL,
  value text,
  message text NOT NULL,
  source text,
  found_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracker_findings_game_idx ON tracker_findings (game_id);
