-- The tracker's exports into staging (staging_games, staging_events, staging_shifts:
-- sql/migrations/000002_operations.sql), and the end of a game queueing its ETL (trigger
-- staging_events_game_end, sql/migrations/000005_etl.sql, runs
-- staging_events_queue_game_end).

-- Writes one tracker export into staging_games / staging_events / staging_shifts, replacing
-- the game's previous staging rows, and its findings into tracker_findings. `p_export` is the export as validated by
-- loader/tracker (its `settings` block, which can hold credentials, is never passed in).
-- Keys: EV{game}{idx:05d} for events (idx as the tracker numbers them), SH{game}{n:05d}
-- for shifts (n = 1-based position in the export, as fact_shifts numbers them).
CREATE OR REPLACE FUNCTION tracker_stage_game(p_export jsonb, p_source text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  g integer := (p_export->>'gameId')::integer;
  replaced_events integer;
  replaced_shifts integer;
  n_events integer;
  n_shifts integer;
BEGIN
  -- The ETL of the game takes the same lock: it never reads a half-replaced export.
  PERFORM pg_advisory_xact_lock(1112753492, g);
  DELETE FROM staging_events WHERE game_id = g;
  GET DIAGNOSTICS replaced_events = ROW_COUNT;
  DELETE FROM staging_shifts WHERE game_id = g;
  GET DIAGNOSTICS replaced_shifts = ROW_COUNT;

  INSERT INTO staging_games AS sg (game_id, home_team, away_team, rosters, period_lengths, tracker_version, exported_at, received_at, source)
  VALUES (g, p_export->>'homeTeam', p_export->>'awayTeam', coalesce(p_export->'rosters', '{}'::jsonb), p_export->'periodLengths',
          p_export->>'version', (p_export->>'exportDate')::timestamptz, now(), p_source)
  ON CONFLICT (game_id) DO UPDATE SET
    home_team = excluded.home_team, away_team = excluded.away_team, rosters = excluded.rosters,
    period_lengths = excluded.period_lengths, tracker_version = excluded.tracker_version,
    exported_at = excluded.exported_at, received_at = excluded.received_at, source = excluded.source;

  INSERT INTO staging_events (event_key, game_id, event_index, period, event_type, team, zone, success, detail1, detail2,
                              start_time, end_time, strength, linked_event_index, assist_to_goal_index, sequence_index,
                              play_index, is_highlight, players, puck_xy, net_xy)
  SELECT etl_key('EV', g, (e->>'idx')::integer), g, (e->>'idx')::integer, (e->>'period')::integer, e->>'type', e->>'team',
         e->>'zone', e->>'success', e->>'detail1', e->>'detail2', e->>'start_time', e->>'end_time', e->>'strength',
         (e->>'linkedEventIdx')::integer, (e->>'assistToGoalIdx')::integer, (e->>'sequenceIdx')::integer,
         (e->>'playIdx')::integer, (e->>'isHighlight')::boolean, coalesce(e->'players', '[]'::jsonb), e->'puckXY', e->'netXY'
  FROM jsonb_array_elements(coalesce(p_export->'events', '[]'::jsonb)) AS e;
  GET DIAGNOSTICS n_events = ROW_COUNT;

  INSERT INTO staging_shifts (shift_key, game_id, shift_index, period, start_time, end_time, start_type, stop_type, strength,
                              duration, stoppage_time, home, away)
  SELECT etl_key('SH', g, x.n), g, x.n, (x.s->>'period')::integer, x.s->>'start_time', x.s->>'end_time', x.s->>'start_type',
         x.s->>'stop_type', x.s->>'strength', (x.s->>'duration')::integer, (x.s->>'stoppageTime')::integer,
         x.s->'home', x.s->'away'
  FROM jsonb_array_elements(coalesce(p_export->'shifts', '[]'::jsonb)) WITH ORDINALITY AS x(s, n);
  GET DIAGNOSTICS n_shifts = ROW_COUNT;

  -- The export's odd values (loader/tracker/findings.ts), staged as written: this export's replace the game's.
  DELETE FROM tracker_findings WHERE game_id = g;
  INSERT INTO tracker_findings (game_id, kind, item, item_index, field, value, message, source)
  SELECT g, f->>'kind', f->>'item', (f->>'index')::integer, f->>'field', f->>'value', f->>'message', p_source
  FROM jsonb_array_elements(coalesce(p_export->'findings', '[]'::jsonb)) AS f;

  RETURN jsonb_build_object(
    'game_id', g, 'events', n_events, 'shifts', n_shifts,
    'replaced_events', replaced_events, 'replaced_shifts', replaced_shifts,
    'game_end', EXISTS (SELECT 1 FROM staging_events WHERE game_id = g AND event_type = 'GameEnd'));
END $$;

-- A GameEnd event queues the game's ETL at high priority (10), however the event arrives:
-- through tracker_stage_game (loader/tracker) or written by the tracker app straight into
-- staging_events (Supabase). A pending ETL job of the game is joined, not duplicated.
-- SECURITY DEFINER: the tracker's role may write staging tables but not etl_queue.
-- The requester is `benchsight.requested_by` when the writer set it, else the writing role.
CREATE OR REPLACE FUNCTION staging_events_queue_game_end() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM etl_queue_enqueue('process_game', NEW.game_id,
    jsonb_build_object('reason', 'the tracker recorded the end of the game (GameEnd)', 'event_key', NEW.event_key,
                       'source', nullif(current_setting('benchsight.source', true), '')),
    10, coalesce(nullif(current_setting('benchsight.requested_by', true), ''), 'tracker:' || session_user), NULL);
  RETURN NULL;
END $$;

-- The trigger that runs it (on the tracker's own writes too).
CREATE OR REPLACE TRIGGER staging_events_game_end
AFTER INSERT OR UPDATE OF event_type ON staging_events
FOR EACH ROW WHEN (NEW.event_type = 'GameEnd')
EXECUTE FUNCTION staging_events_queue_game_end();
