-- The tables of the tracker → warehouse ETL, the job queue's and data quality's, and the
-- live-dashboard publication. The functions this migration once defined are in
-- sql/functions (named below, section by section); sql/README.md ("ETL, job queue and
-- data quality") documents every rule they use and the columns the ETL leaves NULL.

-- ── 1. Helpers ──────────────────────────────────────────────────────────────────────────
-- etl_clock_seconds, etl_key, etl_flip_zone: the current definition is in sql/functions/etl_inputs.sql
-- quality_num: the current definition is in sql/functions/quality.sql

-- ── 2. Tracker staging ──────────────────────────────────────────────────────────────────
-- tracker_stage_game, staging_events_queue_game_end: the current definition is in sql/functions/tracker.sql

-- ── 3. The ETL ──────────────────────────────────────────────────────────────────────────
-- etl_game_teams, etl_roster, etl_shifts, etl_events, etl_event_players, etl_on_ice: the current definition is in sql/functions/etl_inputs.sql
-- etl_core_facts: the current definition is in sql/functions/etl_core_facts.sql
-- etl_fact_teams, etl_is_on_net, etl_stats_facts: the current definition is in sql/functions/etl_stats_facts.sql
-- etl_analytics_facts: the current definition is in sql/functions/etl_analytics_facts.sql
-- etl_process_game: the current definition is in sql/functions/etl_process_game.sql

-- ── 4. The job queue (etl_queue) ────────────────────────────────────────────────────────
-- Claim order: priority DESC (higher number first), then requested_at (oldest first), then
-- id. A job is claimed with FOR UPDATE SKIP LOCKED, so parallel workers never take the same
-- one. A running job whose worker stopped renewing its lock (locked_at older than the lock
-- timeout) is claimable again: the worker is presumed dead. Each claim counts an attempt.
-- trigger staging_events_game_end: its current definition is in sql/functions/tracker.sql, beside staging_events_queue_game_end()
-- etl_queue_enqueue, etl_queue_claim, etl_queue_claim_job, etl_queue_heartbeat, etl_queue_complete, etl_queue_fail: the current definition is in sql/functions/queue.sql

-- ── 5. Data quality ─────────────────────────────────────────────────────────────────────
-- The rules of the ETL's data dictionary (dd_validation_thresholds.csv) plus "team goals
-- must equal the official score in dim_schedule". A rule compares a measure of
-- quality_measures() (per player, team, goalie or game) with its bounds or with an
-- expected value. The rules are declared in sql/functions/quality.sql, the one place to
-- change them.
CREATE TABLE quality_rules (
  rule text PRIMARY KEY,
  stat_name text NOT NULL,                   -- the dictionary's stat_name
  level text NOT NULL CHECK (level IN ('player', 'team', 'goalie', 'game')),
  measure text NOT NULL,                     -- a measure of quality_measures()
  check_kind text NOT NULL CHECK (check_kind IN ('range', 'above', 'below', 'zero', 'equals', 'less_than', 'at_most')),
  low numeric,
  high numeric,
  severity text NOT NULL CHECK (severity IN ('ERROR', 'WARNING')),
  message text NOT NULL,                     -- placeholders: {game} {subject} {value} {expected} {low} {high}
  description text NOT NULL
);

-- The rules (its rows) are declared in sql/functions/quality.sql: migrate keeps the table to them.
-- quality_measures, quality_findings: the current definition is in sql/functions/quality.sql

-- ── 6. Live dashboards ──────────────────────────────────────────────────────────────────
-- On Supabase the fact tables join the supabase_realtime publication, so dashboards see
-- rows as the ETL writes them. Elsewhere (no such publication) this does nothing.
DO $$
DECLARE
  t record;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime' AND NOT puballtables) THEN
    FOR t IN SELECT w.table_name FROM warehouse_tables w
             WHERE w.category <> 'dims'
               AND NOT EXISTS (SELECT 1 FROM pg_publication_tables p
                               WHERE p.pubname = 'supabase_realtime' AND p.schemaname = current_schema() AND p.tablename = w.table_name)
             ORDER BY w.load_order LOOP
      EXECUTE format('ALTER PUBLICATION supabase_realtime ADD TABLE %I', t.table_name);
    END LOOP;
  END IF;
END $$;
