-- The ETL of one game (tracker → warehouse): the game's rows of the 9 fact tables the
-- three steps build (etl_core_facts.sql, etl_stats_facts.sql, etl_analytics_facts.sql)
-- are deleted, children first, then built again from staging; every other table is left
-- alone. Run it inside one transaction (loader/etl/run-etl.ts does): a failure leaves the
-- game as it was. Re-running gives the same rows; no other game is touched. A
-- transaction-level advisory lock per game makes two concurrent runs for one game take
-- turns; tracker_stage_game (tracker.sql) takes the same one.
--
-- Provenance (etl_game_provenance, migration 000017): a table whose rows of the game the
-- team's full ETL produced (its export loaded through the engine) is KEPT as it is, unless
-- `force`: the three steps still build every table (each step reads the ones before), then
-- a kept table's live rows are deleted and the full ETL's rows put back, unchanged. The
-- answer's `kept` names those tables (loader/etl/run-etl.ts turns it into a warning); the
-- tables it did replace are recorded as 'live' with the run's request id (`run_request`).
CREATE OR REPLACE FUNCTION etl_process_game(g integer, force boolean DEFAULT false, run_request uuid DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  t record;
  n integer;
  deleted jsonb := '{}'::jsonb;
  inserted jsonb;
  kept text[] := '{}';
  has_rows boolean;
  n_events integer;
  n_shifts integer;
BEGIN
  PERFORM pg_advisory_xact_lock(1112753492, g);  -- 1112753492 = 'BSET'
  IF NOT EXISTS (SELECT 1 FROM staging_games WHERE game_id = g) THEN
    RAISE EXCEPTION 'game % has not been received from the tracker (staging_games has no row for it)', g
      USING ERRCODE = 'P0002', HINT = 'send the tracker export of the game first; the ETL builds the fact tables from it';
  END IF;
  SELECT count(*) INTO n_events FROM staging_events WHERE game_id = g;
  SELECT count(*) INTO n_shifts FROM staging_shifts WHERE game_id = g;
  IF n_events = 0 AND n_shifts = 0 THEN
    RETURN jsonb_build_object('game_id', g, 'skipped', true,
      'reason', format('the tracker export of game %s has no events and no shifts yet: nothing to process, the fact tables were left as they were', g),
      'deleted', '{}'::jsonb, 'inserted', '{}'::jsonb, 'kept', '[]'::jsonb, 'unresolved_players', '[]'::jsonb);
  END IF;

  -- Only the tables the three steps build (children first): a fact table they do not
  -- build (loaded from CSV only) keeps the game's rows.
  FOR t IN SELECT w.table_name, w.game_column FROM warehouse_tables w
           WHERE w.table_name = ANY (ARRAY['fact_shifts', 'fact_events', 'fact_events_player', 'fact_shifts_player',
                                           'fact_player_game_stats', 'fact_team_game_stats', 'fact_goalie_game_stats',
                                           'fact_h2h', 'fact_wowy'])
           ORDER BY w.load_order DESC LOOP
    -- The full ETL's rows of a table are set aside (and put back below) unless forced.
    IF NOT force AND EXISTS (SELECT 1 FROM etl_game_provenance p WHERE p.game_id = g AND p.table_name = t.table_name AND p.source = 'full') THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', t.table_name, t.game_column) USING g INTO STRICT has_rows;
      IF has_rows THEN
        kept := kept || t.table_name::text;
        EXECUTE format('DROP TABLE IF EXISTS %I', '_etl_kept_' || t.table_name);
        EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %I WHERE %I = $1', '_etl_kept_' || t.table_name, t.table_name, t.game_column) USING g;
      END IF;
    END IF;
    EXECUTE format('DELETE FROM %I WHERE %I = $1', t.table_name, t.game_column) USING g;
    GET DIAGNOSTICS n = ROW_COUNT;
    deleted := deleted || jsonb_build_object(t.table_name, CASE WHEN t.table_name = ANY (kept) THEN 0 ELSE n END);
  END LOOP;

  inserted := etl_core_facts(g);
  inserted := inserted || etl_stats_facts(g);
  inserted := inserted || etl_analytics_facts(g);

  -- Kept tables: the live rows out, the full ETL's rows back as they were.
  FOR t IN SELECT w.table_name, w.game_column FROM warehouse_tables w WHERE w.table_name = ANY (kept) ORDER BY w.load_order LOOP
    EXECUTE format('DELETE FROM %I WHERE %I = $1', t.table_name, t.game_column) USING g;
    EXECUTE format('INSERT INTO %I SELECT * FROM %I', t.table_name, '_etl_kept_' || t.table_name);
    EXECUTE format('DROP TABLE %I', '_etl_kept_' || t.table_name);
    inserted := inserted || jsonb_build_object(t.table_name, 0);
  END LOOP;
  -- The tables replaced are the live ETL's now.
  INSERT INTO etl_game_provenance (game_id, table_name, source, request_id, at)
  SELECT g, k.key, 'live', run_request, now() FROM jsonb_each(inserted) k WHERE NOT (k.key = ANY (kept))
  ON CONFLICT (game_id, table_name) DO UPDATE SET source = 'live', request_id = EXCLUDED.request_id, at = EXCLUDED.at;

  UPDATE staging_events SET processed = true WHERE game_id = g AND NOT processed;
  UPDATE staging_shifts SET processed = true WHERE game_id = g AND NOT processed;

  RETURN jsonb_build_object('game_id', g, 'skipped', false, 'deleted', deleted, 'inserted', inserted,
    -- the tables kept, in load order
    'kept', (SELECT coalesce(jsonb_agg(w.table_name ORDER BY w.load_order), '[]'::jsonb) FROM warehouse_tables w WHERE w.table_name = ANY (kept)),
    -- jersey numbers the rosters do not know: their rows have no player_id
    'unresolved_players', coalesce((
      SELECT jsonb_agg(jsonb_build_object('venue', u.venue, 'number', u.num, 'name', u.name, 'rows', u.n) ORDER BY u.venue, u.num)
      FROM (SELECT x.venue, x.num, max(x.name) AS name, sum(x.n)::integer AS n FROM (
              SELECT s.venue, s.player_number AS num, s.player_name AS name, count(*) AS n
              FROM fact_shifts_player s WHERE s.game_id = g AND s.player_id IS NULL GROUP BY 1, 2, 3
              UNION ALL
              SELECT CASE WHEN p.player_team = p.home_team THEN 'home' ELSE 'away' END, p.player_game_number, p.player_name, count(*)
              FROM fact_events_player p WHERE p.game_id = g AND p.player_id IS NULL AND p.player_game_number IS NOT NULL GROUP BY 1, 2, 3
            ) x GROUP BY x.venue, x.num) u), '[]'::jsonb));
END $$;
