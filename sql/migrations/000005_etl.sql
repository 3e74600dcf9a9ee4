-- The tracker → warehouse ETL, the job queue's functions, the data-quality rules and the
-- live-dashboard publication. sql/README.md ("ETL, job queue and data quality") documents
-- every rule used here and the columns the ETL leaves NULL.
--
--   1. helpers            etl_clock_seconds, etl_key, etl_flip_zone, quality_num
--   2. tracker staging    tracker_stage_game(export, source): one game's staging rows, replaced;
--                         a GameEnd event queues the game's ETL (trigger staging_events_game_end)
--   3. the ETL            staging → core facts → stats facts → analytics facts, per game:
--                         etl_process_game(game_id) deletes the game's rows of the 9 fact
--                         tables and inserts them again (the caller's transaction makes it atomic)
--   4. the job queue      etl_queue_enqueue / _claim / _claim_job / _heartbeat / _complete / _fail
--   5. data quality       quality_rules (the one declaration), quality_measures, quality_findings
--   6. live dashboards    the fact tables join Supabase's supabase_realtime publication
--
-- Portable to PostgreSQL 15 and PGlite (PostgreSQL 18): no extensions.

-- ── 1. Helpers ──────────────────────────────────────────────────────────────────────────

-- The tracker's period clock counts down: '18:00' → 1080 seconds, '00:0.01' → 0.01.
-- Anything else (empty, malformed) is NULL.
CREATE FUNCTION etl_clock_seconds(t text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN btrim(t) ~ '^\d+:\d+(\.\d+)?$'
               THEN split_part(btrim(t), ':', 1)::numeric * 60 + split_part(btrim(t), ':', 2)::numeric END $$;

-- The export's key format: prefix, game id, number zero-padded to 5 digits (never cut).
CREATE FUNCTION etl_key(prefix text, game_id integer, n bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT prefix || game_id::text || CASE WHEN n < 100000 THEN lpad(n::text, 5, '0') ELSE n::text END $$;

-- A zone seen from the other team: offensive ↔ defensive, neutral stays.
CREATE FUNCTION etl_flip_zone(z text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE z WHEN 'o' THEN 'd' WHEN 'd' THEN 'o' ELSE z END $$;

-- Numbers in messages without trailing zeros: 87.50 → 87.5, 4.0 → 4.
CREATE FUNCTION quality_num(v numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(trim_scale(v)::text, 'none') $$;

-- ── 2. Tracker staging ──────────────────────────────────────────────────────────────────

-- Writes one tracker export into staging_games / staging_events / staging_shifts, replacing
-- the game's previous staging rows. `p_export` is the export as validated by
-- loader/tracker (its `settings` block, which can hold credentials, is never passed in).
-- Keys: EV{game}{idx:05d} for events (idx as the tracker numbers them), SH{game}{n:05d}
-- for shifts (n = 1-based position in the export, as fact_shifts numbers them).
CREATE FUNCTION tracker_stage_game(p_export jsonb, p_source text) RETURNS jsonb
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
CREATE FUNCTION staging_events_queue_game_end() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM etl_queue_enqueue('process_game', NEW.game_id,
    jsonb_build_object('reason', 'the tracker recorded the end of the game (GameEnd)', 'event_key', NEW.event_key,
                       'source', nullif(current_setting('benchsight.source', true), '')),
    10, coalesce(nullif(current_setting('benchsight.requested_by', true), ''), 'tracker:' || session_user), NULL);
  RETURN NULL;
END $$;

-- ── 3. The ETL ──────────────────────────────────────────────────────────────────────────

-- The game's teams: names as the tracker sent them; ids from dim_schedule, else from
-- dim_team by name, else NULL.
CREATE FUNCTION etl_game_teams(g integer)
RETURNS TABLE (home_team text, away_team text, home_team_id text, away_team_id text)
LANGUAGE sql STABLE AS $$
  SELECT sg.home_team, sg.away_team,
         coalesce(ds.home_team_id, (SELECT min(t.team_id) FROM dim_team t WHERE t.team_name = sg.home_team)),
         coalesce(ds.away_team_id, (SELECT min(t.team_id) FROM dim_team t WHERE t.team_name = sg.away_team))
  FROM staging_games sg
  LEFT JOIN dim_schedule ds ON ds.game_id = sg.game_id
  WHERE sg.game_id = g
$$;

-- The export's rosters: (venue, jersey number) → player id, name and position.
CREATE FUNCTION etl_roster(g integer)
RETURNS TABLE (venue text, num integer, player_id text, player_name text, pos text, roster_position bigint)
LANGUAGE sql STABLE AS $$
  SELECT v.venue, (r.p->>'num')::integer, nullif(btrim(r.p->>'id'), ''), r.p->>'name', r.p->>'pos', r.n
  FROM staging_games sg
  CROSS JOIN (VALUES ('home'), ('away')) AS v(venue)
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(sg.rosters->v.venue) = 'array' THEN sg.rosters->v.venue ELSE '[]'::jsonb END)
       WITH ORDINALITY AS r(p, n)
  WHERE sg.game_id = g AND btrim(r.p->>'num') ~ '^\d+$'
$$;

-- The game's shifts with their manpower: skaters are the filled slots other than G.
-- situation: Full Strength | Home/Away PowerPlay | Home/Away/Both EmptyNet (a goalie slot
-- is empty); strength: '{home skaters}v{away skaters}' plus ' Home EN' / ' Away EN'.
-- A shift nobody is on (intermission, dead ice) has NULL manpower.
CREATE FUNCTION etl_shifts(g integer)
RETURNS TABLE (shift_index integer, shift_key text, period integer, start_s numeric, end_s numeric, duration integer,
               stoppage integer, start_type text, stop_type text, home jsonb, away jsonb,
               home_skaters integer, away_skaters integer, home_goalie boolean, away_goalie boolean, manned boolean,
               situation text, strength text)
LANGUAGE sql STABLE AS $$
  WITH s AS (
    SELECT st.*,
           CASE WHEN jsonb_typeof(st.home) = 'object' THEN st.home ELSE '{}'::jsonb END AS h,
           CASE WHEN jsonb_typeof(st.away) = 'object' THEN st.away ELSE '{}'::jsonb END AS a
    FROM staging_shifts st WHERE st.game_id = g
  ), m AS (
    SELECT s.*,
           (SELECT count(*) FROM jsonb_each(s.h) x WHERE x.key <> 'G' AND jsonb_typeof(x.value) = 'object')::integer AS hs,
           (SELECT count(*) FROM jsonb_each(s.a) x WHERE x.key <> 'G' AND jsonb_typeof(x.value) = 'object')::integer AS aws,
           coalesce(jsonb_typeof(s.h->'G') = 'object', false) AS hg,
           coalesce(jsonb_typeof(s.a->'G') = 'object', false) AS ag
    FROM s
  ), n AS (
    SELECT m.*, (m.hs + m.aws > 0 OR m.hg OR m.ag) AS on_ice FROM m
  )
  SELECT n.shift_index, etl_key('SH', g, n.shift_index), n.period, etl_clock_seconds(n.start_time), etl_clock_seconds(n.end_time),
         n.duration, n.stoppage_time, nullif(n.start_type, ''), nullif(n.stop_type, ''), n.h, n.a,
         n.hs, n.aws, n.hg, n.ag, n.on_ice,
         CASE WHEN NOT n.on_ice THEN NULL
              WHEN NOT n.hg AND NOT n.ag THEN 'Both EmptyNet'
              WHEN NOT n.hg THEN 'Home EmptyNet'
              WHEN NOT n.ag THEN 'Away EmptyNet'
              WHEN n.hs > n.aws THEN 'Home PowerPlay'
              WHEN n.aws > n.hs THEN 'Away PowerPlay'
              ELSE 'Full Strength' END,
         CASE WHEN NOT n.on_ice THEN NULL
              ELSE n.hs || 'v' || n.aws || CASE WHEN NOT n.hg AND NOT n.ag THEN ' Both EN' WHEN NOT n.hg THEN ' Home EN'
                                                WHEN NOT n.ag THEN ' Away EN' ELSE '' END END
  FROM n
$$;

-- The game's events, numbered as the real ETL numbers them (event_index = idx + 1001:
-- its first tracked event is 1001, 1000 being a synthetic GameStart row), with the shot
-- refinements the real ETL makes and the shift each event happened in: the first shift of
-- the period whose clock interval [end, start] contains the event's start time (an event
-- on a shift change, e.g. a goal that stops play, belongs to the shift that ends with it).
CREATE FUNCTION etl_events(g integer)
RETURNS TABLE (idx integer, event_index integer, event_key text, period integer, event_type text, venue text, zone text,
               success text, detail1 text, detail2 text, event_detail text, start_s numeric, end_s numeric,
               linked_event_index integer, sequence_index integer, play_index integer, assist_to_goal_index integer,
               players jsonb, shift_index integer)
LANGUAGE sql STABLE AS $$
  WITH e AS (
    SELECT se.*, lead(se.event_type) OVER (ORDER BY se.event_index) AS next_type,
           etl_clock_seconds(se.start_time) AS t0, etl_clock_seconds(se.end_time) AS t1
    FROM staging_events se WHERE se.game_id = g
  ), sh AS MATERIALIZED (
    SELECT s.shift_index, s.period, etl_clock_seconds(s.start_time) AS st, etl_clock_seconds(s.end_time) AS en
    FROM staging_shifts s WHERE s.game_id = g
  )
  SELECT e.event_index, e.event_index + 1001, etl_key('EV', g, e.event_index + 1001), e.period, e.event_type,
         nullif(e.team, ''), nullif(e.zone, ''), e.success, nullif(e.detail1, ''), nullif(e.detail2, ''),
         CASE
           -- blocked by a teammate: another player of the shooting team is tagged as the blocker
           WHEN e.event_type = 'Shot' AND e.detail1 = 'Shot_Blocked' AND EXISTS (
                  SELECT 1 FROM jsonb_array_elements(e.players) p
                  WHERE p->>'role' LIKE 'event\_player\_%' AND p->>'role' <> 'event_player_1'
                    AND (p->>'playD1' IN ('BlockedShot', 'DeflectedShot') OR p->>'playD2' IN ('BlockedShot', 'DeflectedShot')))
             THEN 'Shot_BlockedSameTeam'
           -- a deflected shot the goalie then saved reached the net
           WHEN e.event_type = 'Shot' AND e.detail1 = 'Shot_Deflected' AND e.next_type = 'Save' THEN 'Shot_DeflectedOnNetSaved'
           WHEN e.event_type = 'Shot' AND e.detail1 = 'Shot_OnNetSaved' AND e.detail2 = 'Shot_Tip' THEN 'Shot_TippedOnNetSaved'
           ELSE nullif(e.detail1, '') END,
         e.t0, e.t1, e.linked_event_index + 1001, e.sequence_index, e.play_index, e.assist_to_goal_index, e.players,
         (SELECT min(sh.shift_index) FROM sh WHERE sh.period = e.period AND sh.st >= e.t0 AND e.t0 >= sh.en)
  FROM e
$$;

-- The players of each event (the export's players[]), resolved to player ids through the
-- rosters by (team, jersey number). Roles: event_player_N → event_team_player_N,
-- opp_player_N → opp_team_player_N. The tracker's assistToGoalIdx is kept as an assist tag
-- on the event's first player when the tracker did not tag it already.
CREATE FUNCTION etl_event_players(g integer)
RETURNS TABLE (idx integer, role text, player_role text, role_number integer, role_abrev text, venue text, num integer,
               player_id text, player_name text, side_of_puck text, play_d1 text, play_d2 text, play_success text,
               pos_in_event bigint)
LANGUAGE sql STABLE AS $$
  WITH ros AS (SELECT * FROM etl_roster(g)),
  p AS (
    SELECT se.event_index, se.assist_to_goal_index, x.p, x.n,
           nullif(x.p->>'playD1', '') AS d1, nullif(x.p->>'playD2', '') AS d2
    FROM staging_events se
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(se.players) = 'array' THEN se.players ELSE '[]'::jsonb END)
         WITH ORDINALITY AS x(p, n)
    WHERE se.game_id = g
  ), tagged AS (
    SELECT p.*,
           (p.p->>'role' = 'event_player_1' AND p.assist_to_goal_index IS NOT NULL
            AND coalesce(p.d1, '') NOT LIKE 'Assist%' AND coalesce(p.d2, '') NOT LIKE 'Assist%') AS untagged_assist
    FROM p
  )
  SELECT t.event_index, t.p->>'role',
         CASE WHEN t.p->>'role' ~ '^event_player_\d+$' THEN 'event_team_player_' || substring(t.p->>'role' FROM '\d+$')
              WHEN t.p->>'role' ~ '^opp_player_\d+$' THEN 'opp_team_player_' || substring(t.p->>'role' FROM '\d+$')
              ELSE t.p->>'role' END,
         substring(t.p->>'role' FROM '(\d+)$')::integer,
         CASE WHEN t.p->>'role' LIKE 'event%' THEN 'e' WHEN t.p->>'role' LIKE 'opp%' THEN 'o' END,
         t.p->>'team', (t.p->>'num')::integer, r.player_id, coalesce(r.player_name, t.p->>'name'),
         nullif(t.p->>'sideOfPuck', ''),
         CASE WHEN t.untagged_assist AND t.d1 IS NULL THEN 'AssistPrimary' ELSE t.d1 END,
         CASE WHEN t.untagged_assist AND t.d1 IS NOT NULL AND t.d2 IS NULL THEN 'AssistPrimary' ELSE t.d2 END,
         nullif(t.p->>'playSuccess', ''),
         t.n
  FROM tagged t
  LEFT JOIN ros r ON r.venue = t.p->>'team' AND r.num = (t.p->>'num')::integer
$$;

-- Who was on the ice in each shift: one row per filled slot.
CREATE FUNCTION etl_on_ice(g integer)
RETURNS TABLE (shift_index integer, venue text, slot_code text, slot text, num integer, player_id text, player_name text)
LANGUAGE sql STABLE AS $$
  WITH ros AS (SELECT * FROM etl_roster(g))
  SELECT s.shift_index, v.venue, x.key,
         CASE x.key WHEN 'F1' THEN 'forward_1' WHEN 'F2' THEN 'forward_2' WHEN 'F3' THEN 'forward_3'
                    WHEN 'D1' THEN 'defense_1' WHEN 'D2' THEN 'defense_2' WHEN 'G' THEN 'goalie' WHEN 'X' THEN 'xtra'
                    ELSE lower(x.key) END,
         (x.value->>'num')::integer, r.player_id, coalesce(r.player_name, x.value->>'name')
  FROM staging_shifts s
  CROSS JOIN LATERAL (VALUES ('home', s.home), ('away', s.away)) AS v(venue, slots)
  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(v.slots) = 'object' THEN v.slots ELSE '{}'::jsonb END) AS x
  LEFT JOIN ros r ON r.venue = v.venue AND r.num = (x.value->>'num')::integer
  WHERE s.game_id = g AND jsonb_typeof(x.value) = 'object' AND btrim(x.value->>'num') ~ '^\d+$'
$$;

-- Staging → fact_shifts, fact_events, fact_events_player, fact_shifts_player for one game.
-- Returns the rows inserted per table.
CREATE FUNCTION etl_core_facts(g integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  n_shifts integer; n_events integer; n_event_players integer; n_shift_players integer;
BEGIN
  -- Goals per shift: `ev` (even strength, both goalies in, equal skaters) counts for plus/minus.
  CREATE TEMP TABLE etl_shift_goals ON COMMIT DROP AS
  SELECT e.shift_index,
         count(*) FILTER (WHERE e.venue = 'home')::integer AS home_goals,
         count(*) FILTER (WHERE e.venue = 'away')::integer AS away_goals
  FROM etl_events(g) e
  WHERE e.event_type = 'Goal' AND e.shift_index IS NOT NULL
  GROUP BY e.shift_index;

  CREATE TEMP TABLE etl_shift_rows ON COMMIT DROP AS
  SELECT s.*, coalesce(sg.home_goals, 0) AS home_goals_in, coalesce(sg.away_goals, 0) AS away_goals_in,
         coalesce(sum(sg.home_goals) OVER w, 0)::integer AS home_score_before,
         coalesce(sum(sg.away_goals) OVER w, 0)::integer AS away_score_before
  FROM etl_shifts(g) s
  LEFT JOIN etl_shift_goals sg ON sg.shift_index = s.shift_index
  WINDOW w AS (ORDER BY s.shift_index ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);
  ANALYZE etl_shift_rows;

  INSERT INTO fact_shifts (
    shift_key, game_id, shift_index, period, shift_start_min, shift_start_sec, shift_end_min, shift_end_sec,
    shift_start_type, shift_stop_type,
    home_forward_1, home_forward_2, home_forward_3, home_defense_1, home_defense_2, home_xtra, home_goalie,
    away_forward_1, away_forward_2, away_forward_3, away_defense_1, away_defense_2, away_xtra, away_goalie,
    stoppage_time, home_team, away_team, shift_start_total_seconds, shift_end_total_seconds, shift_duration,
    home_team_strength, away_team_strength, home_team_en, away_team_en, home_team_pk, home_team_pp, away_team_pp, away_team_pk,
    situation, strength, home_goals, away_goals, home_team_plus, home_team_minus, away_team_plus, away_team_minus,
    home_team_id, away_team_id, period_id)
  SELECT s.shift_key, g, s.shift_index, s.period,
         floor(s.start_s / 60)::integer, s.start_s - floor(s.start_s / 60) * 60,
         floor(s.end_s / 60)::integer, s.end_s - floor(s.end_s / 60) * 60,
         s.start_type, s.stop_type,
         (s.home->'F1'->>'num')::integer, (s.home->'F2'->>'num')::integer, (s.home->'F3'->>'num')::integer,
         (s.home->'D1'->>'num')::integer, (s.home->'D2'->>'num')::integer, (s.home->'X'->>'num')::numeric, (s.home->'G'->>'num')::integer,
         (s.away->'F1'->>'num')::integer, (s.away->'F2'->>'num')::integer, (s.away->'F3'->>'num')::integer,
         (s.away->'D1'->>'num')::integer, (s.away->'D2'->>'num')::integer, (s.away->'X'->>'num')::integer, (s.away->'G'->>'num')::integer,
         s.stoppage, t.home_team, t.away_team, s.start_s, s.end_s, s.duration,
         CASE WHEN s.manned THEN s.home_skaters END, CASE WHEN s.manned THEN s.away_skaters END,
         CASE WHEN s.manned THEN (NOT s.home_goalie)::integer END, CASE WHEN s.manned THEN (NOT s.away_goalie)::integer END,
         CASE WHEN s.manned THEN (s.situation = 'Away PowerPlay')::integer END, CASE WHEN s.manned THEN (s.situation = 'Home PowerPlay')::integer END,
         CASE WHEN s.manned THEN (s.situation = 'Away PowerPlay')::integer END, CASE WHEN s.manned THEN (s.situation = 'Home PowerPlay')::integer END,
         s.situation, s.strength, s.home_score_before, s.away_score_before,
         CASE WHEN s.manned THEN CASE WHEN s.situation = 'Full Strength' THEN s.home_goals_in ELSE 0 END END,
         CASE WHEN s.manned THEN -CASE WHEN s.situation = 'Full Strength' THEN s.away_goals_in ELSE 0 END END,
         CASE WHEN s.manned THEN CASE WHEN s.situation = 'Full Strength' THEN s.away_goals_in ELSE 0 END END,
         CASE WHEN s.manned THEN -CASE WHEN s.situation = 'Full Strength' THEN s.home_goals_in ELSE 0 END END,
         t.home_team_id, t.away_team_id, 'P' || lpad(s.period::text, 4, '0')
  FROM etl_shift_rows s CROSS JOIN etl_game_teams(g) t;
  GET DIAGNOSTICS n_shifts = ROW_COUNT;

  CREATE TEMP TABLE etl_event_rows ON COMMIT DROP AS
  SELECT e.*, s.home_goalie, s.away_goalie, s.manned
  FROM etl_events(g) e LEFT JOIN etl_shift_rows s ON s.shift_index = e.shift_index;

  CREATE TEMP TABLE etl_event_player_rows ON COMMIT DROP AS SELECT * FROM etl_event_players(g);
  -- Fresh statistics, so that the joins below are planned as hash joins.
  ANALYZE etl_event_rows;
  ANALYZE etl_event_player_rows;

  INSERT INTO fact_events (
    event_key, game_id, period, event_index, linked_event_index, sequence_index, play_index, event_type, tracking_event_index,
    event_start_min, event_start_sec, event_end_min, event_end_sec, role_abrev, event_team_zone, home_team_zone, away_team_zone,
    team_venue, team_venue_abv, side_of_puck, play_detail1, play_detail_2, play_detail_successful, home_team, away_team, type,
    event_detail, event_detail_2, event_successful, shift_index, duration, time_start_total_seconds, time_end_total_seconds,
    period_id, venue_id, home_team_id, away_team_id, shift_key, empty_net_goal)
  SELECT e.event_key, g, e.period, e.event_index, e.linked_event_index, e.sequence_index, e.play_index, e.event_type, e.idx,
         floor(e.start_s / 60)::integer, floor(e.start_s - floor(e.start_s / 60) * 60)::integer,
         floor(e.end_s / 60)::integer, floor(e.end_s - floor(e.end_s / 60) * 60)::integer,
         CASE WHEN e.venue IN ('home', 'away') THEN 'e' END,
         e.zone,
         CASE e.venue WHEN 'home' THEN e.zone WHEN 'away' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'away' THEN e.zone WHEN 'home' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'home' THEN 'Home' WHEN 'away' THEN 'Away' END,
         CASE e.venue WHEN 'home' THEN 'h' WHEN 'away' THEN 'a' END,
         p1.side_of_puck, p1.play_d1, p1.play_d2, p1.play_success,
         t.home_team, t.away_team, e.event_type, e.event_detail,
         regexp_replace(e.detail2, '_', '-'),
         CASE e.success WHEN 'true' THEN 's' WHEN 'false' THEN 'u' END,
         e.shift_index, floor(e.start_s - e.end_s)::integer, floor(e.start_s)::integer, floor(e.end_s)::integer,
         'P' || lpad(e.period::text, 4, '0'),
         CASE e.venue WHEN 'home' THEN 'VN0001' WHEN 'away' THEN 'VN0002' END,
         t.home_team_id, t.away_team_id,
         CASE WHEN e.shift_index IS NOT NULL THEN etl_key('SH', g, e.shift_index) END,
         CASE WHEN e.event_type = 'Goal' AND e.manned
                   AND ((e.venue = 'home' AND NOT e.away_goalie) OR (e.venue = 'away' AND NOT e.home_goalie)) THEN 1 ELSE 0 END
  FROM etl_event_rows e
  CROSS JOIN etl_game_teams(g) t
  LEFT JOIN (SELECT DISTINCT ON (x.idx) x.* FROM etl_event_player_rows x WHERE x.role = 'event_player_1'
             ORDER BY x.idx, x.pos_in_event) p1 ON p1.idx = e.idx;
  GET DIAGNOSTICS n_events = ROW_COUNT;

  INSERT INTO fact_events_player (
    event_player_key, event_key, game_id, player_id, event_index, player_role, role_number, period, event_type,
    player_game_number, linked_event_index, tracking_event_index, event_start_min, event_start_sec, event_end_min, event_end_sec,
    role_abrev, event_team_zone, home_team_zone, away_team_zone, team_venue, team_venue_abv, side_of_puck, sequence_index,
    play_index, play_detail1, play_detail_2, play_detail_successful, home_team, away_team, type, event_detail, event_detail_2,
    event_successful, shift_index, duration, time_start_total_seconds, time_end_total_seconds, player_team, player_name,
    play_detail, period_id, venue_id, home_team_id, away_team_id, player_team_id, shift_key)
  SELECT etl_key('EP', g, row_number() OVER (ORDER BY e.event_index, p.role_abrev NULLS LAST, p.role_number, p.pos_in_event)),
         e.event_key, g, p.player_id, e.event_index, p.player_role, p.role_number, e.period, e.event_type,
         p.num, e.linked_event_index, e.idx,
         floor(e.start_s / 60)::integer, floor(e.start_s - floor(e.start_s / 60) * 60)::integer,
         floor(e.end_s / 60)::integer, floor(e.end_s - floor(e.end_s / 60) * 60)::integer,
         p.role_abrev, e.zone,
         CASE e.venue WHEN 'home' THEN e.zone WHEN 'away' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'away' THEN e.zone WHEN 'home' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'home' THEN 'Home' WHEN 'away' THEN 'Away' END,
         CASE e.venue WHEN 'home' THEN 'h' WHEN 'away' THEN 'a' END,
         p.side_of_puck, e.sequence_index, e.play_index, p.play_d1, p.play_d2, p.play_success,
         t.home_team, t.away_team, e.event_type, e.event_detail, regexp_replace(e.detail2, '_', '-'),
         CASE e.success WHEN 'true' THEN 's' WHEN 'false' THEN 'u' END,
         e.shift_index, floor(e.start_s - e.end_s)::integer, floor(e.start_s)::integer, floor(e.end_s)::integer,
         CASE p.venue WHEN 'home' THEN t.home_team WHEN 'away' THEN t.away_team END,
         p.player_name, p.play_d1, 'P' || lpad(e.period::text, 4, '0'),
         CASE e.venue WHEN 'home' THEN 'VN0001' WHEN 'away' THEN 'VN0002' END,
         t.home_team_id, t.away_team_id,
         CASE p.venue WHEN 'home' THEN t.home_team_id WHEN 'away' THEN t.away_team_id END,
         CASE WHEN e.shift_index IS NOT NULL THEN etl_key('SH', g, e.shift_index) END
  FROM etl_event_player_rows p
  JOIN etl_event_rows e ON e.idx = p.idx
  CROSS JOIN etl_game_teams(g) t;
  GET DIAGNOSTICS n_event_players = ROW_COUNT;

  -- Logical shifts: a player's consecutive shifts (shift_index n, n+1, ... in one period).
  INSERT INTO fact_shifts_player (
    shift_player_key, shift_key, game_id, shift_index, player_number, venue, slot, period, shift_duration, situation, strength,
    stoppage_time, pm_plus_ev, pm_minus_ev, goal_for, goal_against, team_en, opp_en, team_pp, team_pk, player_id, player_name,
    logical_shift_number, shift_segment, cumulative_shift_duration, running_toi, playing_duration, running_playing_toi,
    period_id, venue_id, team_id, team_name)
  WITH o AS (
    SELECT o.*, s.shift_key, s.period, s.duration, s.stoppage, s.situation, s.strength, s.manned,
           s.home_goalie, s.away_goalie,
           CASE o.venue WHEN 'home' THEN s.home_goals_in ELSE s.away_goals_in END AS gf,
           CASE o.venue WHEN 'home' THEN s.away_goals_in ELSE s.home_goals_in END AS ga,
           CASE WHEN lag(o.shift_index) OVER w = o.shift_index - 1 AND lag(s.period) OVER w = s.period THEN 0 ELSE 1 END AS starts_logical
    FROM etl_on_ice(g) o
    JOIN etl_shift_rows s ON s.shift_index = o.shift_index
    WINDOW w AS (PARTITION BY o.venue, o.num ORDER BY o.shift_index)
  ), l AS (
    SELECT o.*, sum(o.starts_logical) OVER (PARTITION BY o.venue, o.num ORDER BY o.shift_index)::integer AS logical
    FROM o
  )
  SELECT etl_key('SP', g, row_number() OVER (ORDER BY l.num, l.venue, l.shift_index, l.slot_code)),
         l.shift_key, g, l.shift_index, l.num, l.venue, l.slot, l.period, l.duration, l.situation, l.strength, l.stoppage,
         CASE WHEN l.situation = 'Full Strength' THEN l.gf ELSE 0 END,
         -CASE WHEN l.situation = 'Full Strength' THEN l.ga ELSE 0 END,
         l.gf, l.ga,
         CASE l.venue WHEN 'home' THEN (NOT l.home_goalie)::integer ELSE (NOT l.away_goalie)::integer END,
         CASE l.venue WHEN 'home' THEN (NOT l.away_goalie)::integer ELSE (NOT l.home_goalie)::integer END,
         (l.situation = CASE l.venue WHEN 'home' THEN 'Home PowerPlay' ELSE 'Away PowerPlay' END)::integer,
         (l.situation = CASE l.venue WHEN 'home' THEN 'Away PowerPlay' ELSE 'Home PowerPlay' END)::integer,
         l.player_id, l.player_name, l.logical,
         row_number() OVER (PARTITION BY l.venue, l.num, l.logical ORDER BY l.shift_index)::integer,
         sum(l.duration) OVER (PARTITION BY l.venue, l.num, l.logical ORDER BY l.shift_index)::integer,
         sum(l.duration) OVER (PARTITION BY l.venue, l.num ORDER BY l.shift_index)::integer,
         l.duration - coalesce(l.stoppage, 0),
         sum(l.duration - coalesce(l.stoppage, 0)) OVER (PARTITION BY l.venue, l.num ORDER BY l.shift_index)::integer,
         'P' || lpad(l.period::text, 4, '0'),
         CASE l.venue WHEN 'home' THEN 'VN0001' ELSE 'VN0002' END,
         CASE l.venue WHEN 'home' THEN t.home_team_id ELSE t.away_team_id END,
         CASE l.venue WHEN 'home' THEN t.home_team ELSE t.away_team END
  FROM l CROSS JOIN etl_game_teams(g) t;
  GET DIAGNOSTICS n_shift_players = ROW_COUNT;

  DROP TABLE etl_shift_goals, etl_shift_rows, etl_event_rows, etl_event_player_rows;
  RETURN jsonb_build_object('fact_shifts', n_shifts, 'fact_events', n_events,
                            'fact_events_player', n_event_players, 'fact_shifts_player', n_shift_players);
END $$;

-- The game's teams as the core facts name them (fact_events, else fact_shifts), ids
-- completed from dim_schedule. The stats steps read only the fact tables, so they give the
-- same answer for a game whose core facts were loaded from CSV.
CREATE FUNCTION etl_fact_teams(g integer)
RETURNS TABLE (home_team text, away_team text, home_team_id text, away_team_id text)
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT max(e.home_team) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.home_team) FROM fact_shifts s WHERE s.game_id = g), ds.home_team_name),
         coalesce((SELECT max(e.away_team) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.away_team) FROM fact_shifts s WHERE s.game_id = g), ds.away_team_name),
         coalesce((SELECT max(e.home_team_id) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.home_team_id) FROM fact_shifts s WHERE s.game_id = g), ds.home_team_id),
         coalesce((SELECT max(e.away_team_id) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.away_team_id) FROM fact_shifts s WHERE s.game_id = g), ds.away_team_id)
  FROM (SELECT g AS game_id) x
  LEFT JOIN dim_schedule ds ON ds.game_id = x.game_id
$$;

-- Shot details that reached the goalie (shots on goal).
CREATE FUNCTION etl_is_on_net(detail text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(detail IN ('Shot_OnNetSaved', 'Shot_Goal', 'Shot_TippedOnNetSaved', 'Shot_DeflectedOnNetSaved'), false) $$;

-- Core facts → fact_player_game_stats, fact_team_game_stats, fact_goalie_game_stats.
CREATE FUNCTION etl_stats_facts(g integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  n_players integer; n_teams integer; n_goalies integer;
BEGIN
  INSERT INTO fact_player_game_stats (
    player_game_key, game_id, player_id, player_name, goals, assists, points, shots, sog, shots_blocked, shots_missed,
    shooting_pct, pass_attempts, pass_completed, pass_pct, fo_wins, fo_losses, fo_total, fo_pct, zone_entries, zone_exits,
    giveaways, takeaways, toi_seconds, toi_minutes, playing_toi_seconds, playing_toi_minutes, stoppage_seconds, shift_count,
    logical_shifts, avg_shift, avg_playing_shift, goals_per_60, assists_per_60, points_per_60, shots_per_60,
    goals_per_60_playing, assists_per_60_playing, points_per_60_playing, shots_per_60_playing,
    corsi_for, corsi_against, fenwick_for, fenwick_against, cf_pct, ff_pct,
    plus_ev, minus_ev, plus_minus_ev, plus_total, minus_total, plus_minus_total, plus_en_adj, minus_en_adj, plus_minus_en_adj,
    home_team_id, away_team_id, secondary_assists,
    zone_entry_carry, zone_entry_pass, zone_entry_dump, zone_entries_controlled, zone_entries_uncontrolled)
  WITH sp AS (
    SELECT s.player_id, max(s.player_name) AS player_name, count(*)::integer AS shift_count,
           coalesce(sum(s.shift_duration), 0)::integer AS toi, coalesce(sum(s.playing_duration), 0)::integer AS ptoi,
           coalesce(sum(s.stoppage_time), 0)::integer AS stoppage, count(DISTINCT s.logical_shift_number)::integer AS logical,
           coalesce(sum(s.pm_plus_ev), 0)::integer AS plus_ev, coalesce(sum(s.pm_minus_ev), 0)::integer AS minus_ev,
           coalesce(sum(s.goal_for), 0)::integer AS gf, coalesce(sum(s.goal_against), 0)::integer AS ga,
           coalesce(sum(s.goal_for) FILTER (WHERE coalesce(s.opp_en, 0) = 0), 0)::integer AS gf_adj,
           coalesce(sum(s.goal_against) FILTER (WHERE coalesce(s.team_en, 0) = 0), 0)::integer AS ga_adj
    FROM fact_shifts_player s WHERE s.game_id = g AND s.player_id IS NOT NULL
    GROUP BY s.player_id
  ), ep AS (
    SELECT p.player_id, max(p.player_name) AS player_name,
           count(*) FILTER (WHERE p.event_type = 'Goal' AND p.player_role = 'event_team_player_1') AS goals,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1') AS shots,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1' AND etl_is_on_net(p.event_detail)) AS sog,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1' AND p.event_detail = 'Shot_Blocked') AS blocked,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1' AND p.event_detail = 'Shot_Missed') AS missed,
           count(*) FILTER (WHERE p.event_type = 'Pass' AND p.player_role = 'event_team_player_1') AS passes,
           count(*) FILTER (WHERE p.event_type = 'Pass' AND p.player_role = 'event_team_player_1' AND p.event_detail = 'Pass_Completed') AS passes_completed,
           count(*) FILTER (WHERE p.event_type = 'Faceoff' AND p.player_role = 'event_team_player_1') AS fo_wins,
           count(*) FILTER (WHERE p.event_type = 'Faceoff' AND p.player_role = 'opp_team_player_1') AS fo_losses,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail LIKE 'Zone\_Entry%') AS entries,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail = 'Zone_Entry' AND p.event_detail_2 ~* '^ZoneEntry[-_](Carried|Rush)$') AS entries_carry,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail = 'Zone_Entry' AND p.event_detail_2 ~* '^ZoneEntry[-_]Pass$') AS entries_pass,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail = 'Zone_Entry' AND p.event_detail_2 ~* '^ZoneEntry[-_]DumpIn$') AS entries_dump,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail LIKE 'Zone\_Exit%') AS exits,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail = 'Turnover_Giveaway') AS giveaways,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail = 'Turnover_Takeaway') AS takeaways
    FROM fact_events_player p WHERE p.game_id = g AND p.player_id IS NOT NULL
    GROUP BY p.player_id
  ), assist_tags AS (
    -- An assist tag (AssistPrimary / AssistSecondary on a player of the event's team) credits
    -- the player with the next goal of that team in the period; once per goal, however many
    -- of the player's plays leading to it are tagged.
    SELECT p.player_id, (p.play_detail1 = 'AssistSecondary' OR p.play_detail_2 = 'AssistSecondary') AS secondary,
           (SELECT min(e.event_index) FROM fact_events e
            WHERE e.game_id = g AND e.event_type = 'Goal' AND e.team_venue = p.team_venue AND e.period = p.period
              AND e.event_index > p.event_index) AS goal_index
    FROM fact_events_player p
    WHERE p.game_id = g AND p.player_id IS NOT NULL AND p.player_role LIKE 'event\_team\_player\_%'
      AND (p.play_detail1 IN ('AssistPrimary', 'AssistSecondary') OR p.play_detail_2 IN ('AssistPrimary', 'AssistSecondary'))
  ), assists AS (
    SELECT a.player_id, count(DISTINCT a.goal_index) AS assists,
           count(DISTINCT a.goal_index) FILTER (WHERE a.secondary) AS secondary_assists
    FROM assist_tags a WHERE a.goal_index IS NOT NULL
    GROUP BY a.player_id
  ), onice AS (
    -- Shot attempts while on the ice: Shot and Goal events (a goal counts as its Shot_Goal
    -- shot plus its Goal event, as in the real export); Fenwick leaves out blocked shots.
    SELECT s.player_id,
           count(*) FILTER (WHERE lower(e.team_venue) = s.venue) AS cf,
           count(*) FILTER (WHERE lower(e.team_venue) <> s.venue) AS ca,
           count(*) FILTER (WHERE lower(e.team_venue) = s.venue AND coalesce(e.event_detail, '') NOT LIKE 'Shot\_Blocked%') AS ff,
           count(*) FILTER (WHERE lower(e.team_venue) <> s.venue AND coalesce(e.event_detail, '') NOT LIKE 'Shot\_Blocked%') AS fa
    FROM fact_shifts_player s
    JOIN fact_events e ON e.game_id = g AND e.shift_index = s.shift_index AND e.event_type IN ('Shot', 'Goal')
    WHERE s.game_id = g AND s.player_id IS NOT NULL
    GROUP BY s.player_id
  ), players AS (
    SELECT player_id FROM sp UNION SELECT player_id FROM ep
  ), x AS (
    SELECT pl.player_id, coalesce(sp.player_name, ep.player_name) AS player_name,
           coalesce(ep.goals, 0)::integer AS goals, coalesce(a.assists, 0)::integer AS assists,
           coalesce(a.secondary_assists, 0)::integer AS secondary_assists,
           coalesce(ep.shots, 0)::integer AS shots, coalesce(ep.sog, 0)::integer AS sog,
           coalesce(ep.blocked, 0)::integer AS blocked, coalesce(ep.missed, 0)::integer AS missed,
           coalesce(ep.passes, 0)::integer AS passes, coalesce(ep.passes_completed, 0)::integer AS passes_completed,
           coalesce(ep.fo_wins, 0)::integer AS fo_wins, coalesce(ep.fo_losses, 0)::integer AS fo_losses,
           coalesce(ep.entries, 0)::integer AS entries, coalesce(ep.exits, 0)::integer AS exits,
           coalesce(ep.entries_carry, 0)::integer AS entries_carry, coalesce(ep.entries_pass, 0)::integer AS entries_pass,
           coalesce(ep.entries_dump, 0)::integer AS entries_dump,
           coalesce(ep.giveaways, 0)::integer AS giveaways, coalesce(ep.takeaways, 0)::integer AS takeaways,
           coalesce(sp.toi, 0) AS toi, coalesce(sp.ptoi, 0) AS ptoi, coalesce(sp.stoppage, 0) AS stoppage,
           coalesce(sp.shift_count, 0) AS shift_count, coalesce(sp.logical, 0) AS logical,
           coalesce(sp.plus_ev, 0) AS plus_ev, coalesce(sp.minus_ev, 0) AS minus_ev,
           coalesce(sp.gf, 0) AS gf, coalesce(sp.ga, 0) AS ga, coalesce(sp.gf_adj, 0) AS gf_adj, coalesce(sp.ga_adj, 0) AS ga_adj,
           coalesce(oi.cf, 0)::integer AS cf, coalesce(oi.ca, 0)::integer AS ca,
           coalesce(oi.ff, 0)::integer AS ff, coalesce(oi.fa, 0)::integer AS fa
    FROM players pl
    LEFT JOIN sp ON sp.player_id = pl.player_id
    LEFT JOIN ep ON ep.player_id = pl.player_id
    LEFT JOIN assists a ON a.player_id = pl.player_id
    LEFT JOIN onice oi ON oi.player_id = pl.player_id
  )
  SELECT etl_key('PG', g, row_number() OVER (ORDER BY x.player_id)), g, x.player_id, x.player_name,
         x.goals, x.assists, x.goals + x.assists, x.shots, x.sog, x.blocked, x.missed,
         CASE WHEN x.shots > 0 THEN round(100.0 * x.goals / x.shots, 1) ELSE 0 END,
         x.passes, x.passes_completed, CASE WHEN x.passes > 0 THEN round(100.0 * x.passes_completed / x.passes, 1) ELSE 0 END,
         x.fo_wins, x.fo_losses, x.fo_wins + x.fo_losses,
         CASE WHEN x.fo_wins + x.fo_losses > 0 THEN round(100.0 * x.fo_wins / (x.fo_wins + x.fo_losses), 1) ELSE 0 END,
         x.entries, x.exits, x.giveaways, x.takeaways,
         x.toi, round(x.toi / 60.0, 1), x.ptoi, round(x.ptoi / 60.0, 1), x.stoppage, x.shift_count, x.logical,
         CASE WHEN x.logical > 0 THEN round(x.toi::numeric / x.logical, 1) END,
         CASE WHEN x.logical > 0 THEN round(x.ptoi::numeric / x.logical, 1) END,
         CASE WHEN x.toi > 0 THEN round(x.goals * 3600.0 / x.toi, 2) ELSE 0 END,
         CASE WHEN x.toi > 0 THEN round(x.assists * 3600.0 / x.toi, 2) ELSE 0 END,
         CASE WHEN x.toi > 0 THEN round((x.goals + x.assists) * 3600.0 / x.toi, 2) ELSE 0 END,
         CASE WHEN x.toi > 0 THEN round(x.shots * 3600.0 / x.toi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN round(x.goals * 3600.0 / x.ptoi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN round(x.assists * 3600.0 / x.ptoi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN round((x.goals + x.assists) * 3600.0 / x.ptoi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN round(x.shots * 3600.0 / x.ptoi, 2) ELSE 0 END,
         x.cf, x.ca, x.ff, x.fa,
         CASE WHEN x.cf + x.ca > 0 THEN round(100.0 * x.cf / (x.cf + x.ca), 1) ELSE 0 END,
         CASE WHEN x.ff + x.fa > 0 THEN round(100.0 * x.ff / (x.ff + x.fa), 1) ELSE 0 END,
         x.plus_ev, x.minus_ev, x.plus_ev + x.minus_ev,
         x.gf, -x.ga, x.gf - x.ga, x.gf_adj, -x.ga_adj, x.gf_adj - x.ga_adj,
         t.home_team_id, t.away_team_id, x.secondary_assists,
         x.entries_carry, x.entries_pass, x.entries_dump, x.entries_carry + x.entries_pass, x.entries_dump
  FROM x CROSS JOIN etl_fact_teams(g) t;
  GET DIAGNOSTICS n_players = ROW_COUNT;

  -- Teams: counted from the events of each side (so a scorer missing from the roster
  -- still counts for the team). Only for a game that has core facts.
  INSERT INTO fact_team_game_stats (
    team_game_key, game_id, venue, goals, shots, fo_wins, giveaways, takeaways, zone_entries, zone_exits, pass_attempts,
    pass_completed, fo_losses, sog, fo_total, fo_pct, pass_pct, shooting_pct, venue_id, home_team_id, away_team_id, team_id,
    controlled_entries, corsi_for, corsi_against, cf_pct, team_name,
    total_sog, total_passes, total_pass_completed, team_pass_pct, total_zone_entries, total_zone_exits,
    total_giveaways, total_takeaways, turnover_diff, total_fo_wins)
  WITH v(venue, n) AS (VALUES ('home', 1), ('away', 2)),
  e AS (SELECT lower(f.team_venue) AS venue, f.event_type, f.event_detail, f.event_detail_2 FROM fact_events f WHERE f.game_id = g),
  c AS (
    SELECT v.venue, v.n,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_type = 'Goal')::integer AS goals,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_type = 'Shot')::integer AS shots,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_type = 'Shot' AND etl_is_on_net(e.event_detail))::integer AS sog,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_type = 'Faceoff')::integer AS fo_wins,
           count(*) FILTER (WHERE e.venue <> v.venue AND e.event_type = 'Faceoff')::integer AS fo_losses,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_detail = 'Turnover_Giveaway')::integer AS giveaways,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_detail = 'Turnover_Takeaway')::integer AS takeaways,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_detail LIKE 'Zone\_Entry%')::integer AS entries,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_detail = 'Zone_Entry' AND e.event_detail_2 ~* '^ZoneEntry[-_](Carried|Rush|Pass)$')::integer AS controlled,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_detail LIKE 'Zone\_Exit%')::integer AS exits,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_type = 'Pass')::integer AS passes,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_detail = 'Pass_Completed')::integer AS passes_completed,
           count(*) FILTER (WHERE e.venue = v.venue AND e.event_type IN ('Shot', 'Goal'))::integer AS cf,
           count(*) FILTER (WHERE e.venue <> v.venue AND e.event_type IN ('Shot', 'Goal'))::integer AS ca
    FROM v LEFT JOIN e ON true
    GROUP BY v.venue, v.n
  )
  SELECT etl_key('TG', g, c.n), g, CASE c.venue WHEN 'home' THEN 'Home' ELSE 'Away' END,
         c.goals, c.shots, c.fo_wins, c.giveaways, c.takeaways, c.entries, c.exits, c.passes, c.passes_completed,
         c.fo_losses, c.sog, c.fo_wins + c.fo_losses,
         CASE WHEN c.fo_wins + c.fo_losses > 0 THEN round(100.0 * c.fo_wins / (c.fo_wins + c.fo_losses), 1) ELSE 0 END,
         CASE WHEN c.passes > 0 THEN round(100.0 * c.passes_completed / c.passes, 1) ELSE 0 END,
         CASE WHEN c.sog > 0 THEN round(100.0 * c.goals / c.sog, 1) ELSE 0 END,  -- per shot on goal, as the real export
         CASE c.venue WHEN 'home' THEN 'VN0001' ELSE 'VN0002' END,
         t.home_team_id, t.away_team_id, CASE c.venue WHEN 'home' THEN t.home_team_id ELSE t.away_team_id END,
         c.controlled, c.cf, c.ca, CASE WHEN c.cf + c.ca > 0 THEN round(100.0 * c.cf / (c.cf + c.ca), 1) ELSE 0 END,
         CASE c.venue WHEN 'home' THEN t.home_team ELSE t.away_team END,
         -- total_*: the game's totals, both teams together (the same on both rows, as in the real export)
         sum(c.sog) OVER (), sum(c.passes) OVER (), sum(c.passes_completed) OVER (),
         CASE WHEN sum(c.passes) OVER () > 0 THEN round(100.0 * sum(c.passes_completed) OVER () / sum(c.passes) OVER (), 1) ELSE 0 END,
         sum(c.entries) OVER (), sum(c.exits) OVER (), sum(c.giveaways) OVER (), sum(c.takeaways) OVER (),
         sum(c.takeaways) OVER () - sum(c.giveaways) OVER (), sum(c.fo_wins) OVER ()
  FROM c CROSS JOIN etl_fact_teams(g) t
  WHERE EXISTS (SELECT 1 FROM fact_events f WHERE f.game_id = g) OR EXISTS (SELECT 1 FROM fact_shifts f WHERE f.game_id = g);
  GET DIAGNOSTICS n_teams = ROW_COUNT;

  -- Goalies: whoever played the goalie slot, or made a save.
  INSERT INTO fact_goalie_game_stats (
    goalie_game_key, game_id, player_id, player_name, team_name, saves, goals_against, shots_against, save_pct, toi_seconds,
    empty_net_ga, saves_rebound, saves_freeze, saves_glove, saves_blocker, saves_left_pad, saves_right_pad,
    rebound_control_pct, total_save_events)
  WITH gk AS (
    SELECT s.player_id, max(s.player_name) AS player_name, max(s.venue) AS venue,
           sum(s.shift_duration)::integer AS toi, coalesce(sum(s.goal_against), 0)::integer AS ga
    FROM fact_shifts_player s WHERE s.game_id = g AND s.slot = 'goalie' AND s.player_id IS NOT NULL
    GROUP BY s.player_id
  ), sv AS (
    SELECT p.player_id, max(p.player_name) AS player_name, max(lower(p.team_venue)) AS venue,
           count(*)::integer AS saves,
           count(*) FILTER (WHERE p.event_detail = 'Save_Rebound')::integer AS rebound,
           count(*) FILTER (WHERE p.event_detail = 'Save_Freeze')::integer AS freeze,
           count(*) FILTER (WHERE p.event_detail_2 ~* '^Save[-_]Glove$')::integer AS glove,
           count(*) FILTER (WHERE p.event_detail_2 ~* '^Save[-_]Blocker$')::integer AS blocker,
           count(*) FILTER (WHERE p.event_detail_2 ~* '^Save[-_]LeftPad$')::integer AS left_pad,
           count(*) FILTER (WHERE p.event_detail_2 ~* '^Save[-_]RightPad$')::integer AS right_pad
    FROM fact_events_player p
    WHERE p.game_id = g AND p.event_type = 'Save' AND p.player_role = 'event_team_player_1' AND p.player_id IS NOT NULL
    GROUP BY p.player_id
  ), en AS (
    -- goals into an empty net, by the side that conceded them
    SELECT CASE lower(f.team_venue) WHEN 'home' THEN 'away' ELSE 'home' END AS venue, count(*)::integer AS n
    FROM fact_events f WHERE f.game_id = g AND f.event_type = 'Goal' AND f.empty_net_goal = 1
    GROUP BY 1
  ), x AS (
    SELECT coalesce(gk.player_id, sv.player_id) AS player_id, coalesce(gk.player_name, sv.player_name) AS player_name,
           coalesce(gk.venue, sv.venue) AS venue, coalesce(sv.saves, 0) AS saves, coalesce(gk.ga, 0) AS ga, gk.toi,
           coalesce(sv.rebound, 0) AS rebound, coalesce(sv.freeze, 0) AS freeze, coalesce(sv.glove, 0) AS glove,
           coalesce(sv.blocker, 0) AS blocker, coalesce(sv.left_pad, 0) AS left_pad, coalesce(sv.right_pad, 0) AS right_pad
    FROM gk FULL JOIN sv ON sv.player_id = gk.player_id
  )
  SELECT etl_key('GK', g, row_number() OVER (ORDER BY x.venue = 'away', x.player_id)), g, x.player_id, x.player_name,
         CASE x.venue WHEN 'home' THEN t.home_team WHEN 'away' THEN t.away_team END,
         x.saves, x.ga, x.saves + x.ga,
         CASE WHEN x.saves + x.ga > 0 THEN round(100.0 * x.saves / (x.saves + x.ga), 1) END,
         x.toi, coalesce(en.n, 0), x.rebound, x.freeze, x.glove, x.blocker, x.left_pad, x.right_pad,
         CASE WHEN x.saves > 0 THEN round(100.0 * x.freeze / x.saves, 1) END, x.saves
  FROM x CROSS JOIN etl_fact_teams(g) t
  LEFT JOIN en ON en.venue = x.venue;
  GET DIAGNOSTICS n_goalies = ROW_COUNT;

  RETURN jsonb_build_object('fact_player_game_stats', n_players, 'fact_team_game_stats', n_teams,
                            'fact_goalie_game_stats', n_goalies);
END $$;

-- Core facts → fact_h2h (opponents: every home player × away player who shared a shift)
-- and fact_wowy (teammates: every pair of players of one side, with and without each other).
CREATE FUNCTION etl_analytics_facts(g integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  n_h2h integer; n_wowy integer;
BEGIN
  -- One row per player and shift, with what each side attempted during the shift.
  CREATE TEMP TABLE etl_player_shifts ON COMMIT DROP AS
  WITH ev AS (
    SELECT f.shift_index, lower(f.team_venue) AS venue,
           count(*) FILTER (WHERE f.event_type IN ('Shot', 'Goal'))::integer AS cf,
           count(*) FILTER (WHERE f.event_type IN ('Shot', 'Goal') AND coalesce(f.event_detail, '') NOT LIKE 'Shot\_Blocked%')::integer AS ff,
           count(*) FILTER (WHERE f.event_type = 'Shot' AND etl_is_on_net(f.event_detail))::integer AS sog
    FROM fact_events f WHERE f.game_id = g AND f.shift_index IS NOT NULL
    GROUP BY 1, 2
  )
  SELECT s.shift_index, s.venue, s.player_id, s.player_name, s.player_number, s.logical_shift_number,
         coalesce(s.shift_duration, 0) AS d, coalesce(s.goal_for, 0) AS gf, coalesce(s.goal_against, 0) AS ga,
         coalesce(mine.cf, 0) AS cf, coalesce(theirs.cf, 0) AS ca, coalesce(mine.ff, 0) AS ff, coalesce(theirs.ff, 0) AS fa,
         coalesce(mine.sog, 0) AS sf, coalesce(theirs.sog, 0) AS sa
  FROM fact_shifts_player s
  LEFT JOIN ev mine ON mine.shift_index = s.shift_index AND mine.venue = s.venue
  LEFT JOIN ev theirs ON theirs.shift_index = s.shift_index AND theirs.venue <> s.venue
  WHERE s.game_id = g AND s.player_id IS NOT NULL;
  ANALYZE etl_player_shifts;

  INSERT INTO fact_h2h (
    game_id, player_1_id, player_2_id, shifts_together, home_team_id, away_team_id, toi_together, goals_for, goals_against,
    plus_minus, corsi_for, corsi_against, cf_pct, fenwick_for, fenwick_against, ff_pct, shots_for, shots_against,
    h2h_key, player_1_name, player_2_name)
  WITH pairs AS (
    SELECT a.player_id AS p1, b.player_id AS p2, max(a.player_name) AS n1, max(b.player_name) AS n2,
           count(*)::integer AS shifts, sum(a.d) AS toi, sum(a.gf) AS gf, sum(a.ga) AS ga,
           sum(a.cf) AS cf, sum(a.ca) AS ca, sum(a.ff) AS ff, sum(a.fa) AS fa, sum(a.sf) AS sf, sum(a.sa) AS sa
    FROM etl_player_shifts a
    JOIN etl_player_shifts b ON b.shift_index = a.shift_index AND b.venue = 'away'
    WHERE a.venue = 'home'
    GROUP BY a.player_id, b.player_id
  )
  SELECT g, p.p1, p.p2, p.shifts, t.home_team_id, t.away_team_id, p.toi, p.gf, p.ga, p.gf - p.ga,
         p.cf, p.ca, CASE WHEN p.cf + p.ca > 0 THEN round(100.0 * p.cf / (p.cf + p.ca), 1) END,
         p.ff, p.fa, CASE WHEN p.ff + p.fa > 0 THEN round(100.0 * p.ff / (p.ff + p.fa), 1) END,
         p.sf, p.sa, etl_key('HH', g, row_number() OVER (ORDER BY p.p1, p.p2)), p.n1, p.n2
  FROM pairs p CROSS JOIN etl_fact_teams(g) t;
  GET DIAGNOSTICS n_h2h = ROW_COUNT;

  INSERT INTO fact_wowy (
    game_id, player_1_id, player_2_id, venue, shifts_together, p1_shifts_without_p2, p2_shifts_without_p1,
    p1_logical_shifts, p2_logical_shifts, venue_id, home_team_id, away_team_id, toi_together, toi_apart,
    gf_pct_together, gf_pct_apart, gf_pct_delta, cf_pct_together, cf_pct_apart, cf_pct_delta,
    relative_corsi, relative_fenwick, wowy_key, player_1_name, player_2_name)
  WITH pl AS (
    SELECT s.venue, s.player_id, max(s.player_name) AS name, min(s.player_number) AS num, count(*)::integer AS shifts,
           count(DISTINCT s.logical_shift_number)::integer AS logical, sum(s.d) AS toi, sum(s.gf) AS gf, sum(s.ga) AS ga,
           sum(s.cf) AS cf, sum(s.ca) AS ca, sum(s.ff) AS ff, sum(s.fa) AS fa
    FROM etl_player_shifts s GROUP BY s.venue, s.player_id
  ), together AS (
    SELECT a.player_id AS p1, b.player_id AS p2, count(*)::integer AS shifts, sum(a.d) AS toi, sum(a.gf) AS gf,
           sum(a.ga) AS ga, sum(a.cf) AS cf, sum(a.ca) AS ca, sum(a.ff) AS ff, sum(a.fa) AS fa
    FROM etl_player_shifts a
    JOIN etl_player_shifts b ON b.shift_index = a.shift_index AND b.venue = a.venue AND b.player_id <> a.player_id
    GROUP BY a.player_id, b.player_id
  ), w AS (
    SELECT a.venue, a.player_id AS p1, b.player_id AS p2, a.name AS n1, b.name AS n2, a.num AS num1, b.num AS num2,
           coalesce(t.shifts, 0) AS shifts, a.shifts - coalesce(t.shifts, 0) AS p1_without, b.shifts - coalesce(t.shifts, 0) AS p2_without,
           a.logical AS l1, b.logical AS l2, coalesce(t.toi, 0) AS toi, a.toi - coalesce(t.toi, 0) AS toi_apart,
           coalesce(t.gf, 0) AS gf, coalesce(t.ga, 0) AS ga, a.gf - coalesce(t.gf, 0) AS gf_apart, a.ga - coalesce(t.ga, 0) AS ga_apart,
           coalesce(t.cf, 0) AS cf, coalesce(t.ca, 0) AS ca, a.cf - coalesce(t.cf, 0) AS cf_apart, a.ca - coalesce(t.ca, 0) AS ca_apart,
           coalesce(t.ff, 0) AS ff, coalesce(t.fa, 0) AS fa, a.ff - coalesce(t.ff, 0) AS ff_apart, a.fa - coalesce(t.fa, 0) AS fa_apart
    FROM pl a
    JOIN pl b ON b.venue = a.venue AND (a.num, a.player_id) < (b.num, b.player_id)
    LEFT JOIN together t ON t.p1 = a.player_id AND t.p2 = b.player_id
  ), pct AS (
    SELECT w.*,
           CASE WHEN w.gf + w.ga > 0 THEN round(100.0 * w.gf / (w.gf + w.ga), 1) END AS gf_t,
           CASE WHEN w.gf_apart + w.ga_apart > 0 THEN round(100.0 * w.gf_apart / (w.gf_apart + w.ga_apart), 1) END AS gf_a,
           CASE WHEN w.cf + w.ca > 0 THEN round(100.0 * w.cf / (w.cf + w.ca), 1) END AS cf_t,
           CASE WHEN w.cf_apart + w.ca_apart > 0 THEN round(100.0 * w.cf_apart / (w.cf_apart + w.ca_apart), 1) END AS cf_a,
           CASE WHEN w.ff + w.fa > 0 THEN round(100.0 * w.ff / (w.ff + w.fa), 1) END AS ff_t,
           CASE WHEN w.ff_apart + w.fa_apart > 0 THEN round(100.0 * w.ff_apart / (w.ff_apart + w.fa_apart), 1) END AS ff_a
    FROM w
  )
  SELECT g, p.p1, p.p2, p.venue, p.shifts, p.p1_without, p.p2_without, p.l1, p.l2,
         CASE p.venue WHEN 'home' THEN 'VN0001' ELSE 'VN0002' END, t.home_team_id, t.away_team_id,
         p.toi, p.toi_apart, p.gf_t, p.gf_a, p.gf_t - p.gf_a, p.cf_t, p.cf_a, p.cf_t - p.cf_a,
         p.cf_t - p.cf_a, p.ff_t - p.ff_a,
         etl_key('WY', g, row_number() OVER (ORDER BY p.venue = 'away', p.num1, p.p1, p.num2, p.p2)), p.n1, p.n2
  FROM pct p CROSS JOIN etl_fact_teams(g) t;
  GET DIAGNOSTICS n_wowy = ROW_COUNT;

  DROP TABLE etl_player_shifts;
  RETURN jsonb_build_object('fact_h2h', n_h2h, 'fact_wowy', n_wowy);
END $$;

-- The ETL of one game: its rows of the 9 fact tables (read from the catalog, children
-- first) are deleted, then built again from staging. Run it inside one transaction
-- (loader/etl/run-etl.ts does): a failure leaves the game as it was. Re-running gives the
-- same rows; no other game is touched. A transaction-level advisory lock per game makes
-- two concurrent runs for one game take turns.
CREATE FUNCTION etl_process_game(g integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  t record;
  n integer;
  deleted jsonb := '{}'::jsonb;
  inserted jsonb;
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
      'deleted', '{}'::jsonb, 'inserted', '{}'::jsonb, 'unresolved_players', '[]'::jsonb);
  END IF;

  FOR t IN SELECT w.table_name, w.game_column FROM warehouse_tables w
           WHERE w.category <> 'dims' AND w.game_column IS NOT NULL ORDER BY w.load_order DESC LOOP
    EXECUTE format('DELETE FROM %I WHERE %I = $1', t.table_name, t.game_column) USING g;
    GET DIAGNOSTICS n = ROW_COUNT;
    deleted := deleted || jsonb_build_object(t.table_name, n);
  END LOOP;

  inserted := etl_core_facts(g);
  inserted := inserted || etl_stats_facts(g);
  inserted := inserted || etl_analytics_facts(g);

  UPDATE staging_events SET processed = true WHERE game_id = g AND NOT processed;
  UPDATE staging_shifts SET processed = true WHERE game_id = g AND NOT processed;

  RETURN jsonb_build_object('game_id', g, 'skipped', false, 'deleted', deleted, 'inserted', inserted,
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

-- ── 4. The job queue (etl_queue) ────────────────────────────────────────────────────────
-- Claim order: priority DESC (higher number first), then requested_at (oldest first), then
-- id. A job is claimed with FOR UPDATE SKIP LOCKED, so parallel workers never take the same
-- one. A running job whose worker stopped renewing its lock (locked_at older than the lock
-- timeout) is claimable again: the worker is presumed dead. Each claim counts an attempt.

-- Queues a job, or joins the pending one for the same game and operation (the unique
-- partial index etl_queue_one_pending_idx allows one): the joined job keeps its payload,
-- takes the higher priority, and lists the joiner in payload.joined.
CREATE FUNCTION etl_queue_enqueue(p_operation text, p_game_id integer, p_payload jsonb, p_priority integer,
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
CREATE FUNCTION etl_queue_claim(p_worker text, p_operations text[], p_lock_timeout interval)
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
CREATE FUNCTION etl_queue_claim_job(p_id bigint, p_worker text, p_lock_timeout interval)
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
CREATE FUNCTION etl_queue_heartbeat(p_id bigint, p_worker text) RETURNS boolean
LANGUAGE sql AS $$
  WITH u AS (UPDATE etl_queue SET locked_at = now() WHERE id = p_id AND status = 'running' AND locked_by = p_worker RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM u)
$$;

-- Marks the job succeeded with its result. Nothing (no row) when the job was taken back
-- from this worker meanwhile: the new owner's outcome counts.
CREATE FUNCTION etl_queue_complete(p_id bigint, p_worker text, p_result jsonb)
RETURNS SETOF etl_queue
LANGUAGE sql AS $$
  UPDATE etl_queue SET status = 'succeeded', completed_at = now(), result = p_result
  WHERE id = p_id AND status = 'running' AND locked_by = p_worker
  RETURNING *
$$;

-- Records a failed attempt. The job goes back to pending after `p_retry_in` while it has
-- attempts left (and the failure is not permanent), else it is failed. Every attempt's
-- error is kept in result.errors; error_message holds the last one.
CREATE FUNCTION etl_queue_fail(p_id bigint, p_worker text, p_error text, p_retry_in interval, p_permanent boolean)
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

CREATE TRIGGER staging_events_game_end
AFTER INSERT OR UPDATE OF event_type ON staging_events
FOR EACH ROW WHEN (NEW.event_type = 'GameEnd')
EXECUTE FUNCTION staging_events_queue_game_end();

-- ── 5. Data quality ─────────────────────────────────────────────────────────────────────
-- The rules of the ETL's data dictionary (dd_validation_thresholds.csv) plus "team goals
-- must equal the official score in dim_schedule", declared once, here. A rule compares a
-- measure of quality_measures() (per player, team, goalie or game) with its bounds or with
-- an expected value. Change a rule with a new migration (UPDATE quality_rules ...).
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

-- check_kind: range = value outside [low, high]; above = value > high; below = value < low;
-- zero = value is 0; equals = value <> expected; less_than = value >= expected;
-- at_most = value > expected. Player rules apply to skaters (goalies have their own).
INSERT INTO quality_rules (rule, stat_name, level, measure, check_kind, low, high, severity, message, description) VALUES
  ('zone_entry_control_pct', 'zone_entry_control_pct', 'player', 'zone_entry_control_pct', 'range', 0, 100, 'ERROR',
   'game {game}: {subject} has a zone entry control % of {value}, outside the allowed range {low}–{high}', 'Zone entry control % must be 0-100'),
  ('zone_entry_control_pct_typical', 'zone_entry_control_pct', 'player', 'zone_entry_control_pct', 'range', 30, 70, 'WARNING',
   'game {game}: {subject} has a zone entry control % of {value}, outside the typical range {low}–{high}', 'FLAG if outside typical range (a flag, so a WARNING: it would mark most players of every game)'),
  ('fo_pct', 'fo_pct', 'player', 'fo_pct', 'range', 0, 100, 'ERROR',
   'game {game}: {subject} has a faceoff win % of {value}, outside the allowed range {low}–{high}', 'Faceoff win % must be 0-100'),
  ('pass_pct', 'pass_pct', 'player', 'pass_pct', 'range', 0, 100, 'WARNING',
   'game {game}: {subject} has a pass completion % of {value}, outside the allowed range {low}–{high}', 'Pass completion % must be 0-100'),
  ('pass_pct_zero', 'pass_pct', 'player', 'pass_pct_over_10_attempts', 'zero', NULL, NULL, 'WARNING',
   'game {game}: {subject} completed {value}% of more than 10 passes (a tracking issue?)', 'FLAG if 0% with >10 attempts (tracking issue)'),
  ('shooting_pct', 'shooting_pct', 'player', 'shooting_pct', 'range', 0, 100, 'WARNING',
   'game {game}: {subject} has a shooting % of {value}, outside the allowed range {low}–{high}', 'Shooting % must be 0-100'),
  ('shooting_pct_high', 'shooting_pct', 'player', 'shooting_pct', 'above', NULL, 50, 'WARNING',
   'game {game}: {subject} has a shooting % of {value}, above {high} (a statistical anomaly)', 'FLAG if >50% (statistical anomaly)'),
  ('save_pct', 'save_pct', 'goalie', 'save_pct', 'range', 0, 100, 'ERROR',
   'game {game}: goalie {subject} has a save % of {value}, outside the allowed range {low}–{high}', 'Goalie save % must be 0-100'),
  ('save_pct_low', 'save_pct', 'goalie', 'save_pct', 'below', 70, NULL, 'ERROR',
   'game {game}: goalie {subject} has a save % of {value}, below {low} (a data issue is likely)', 'FLAG if <70% (data issue likely)'),
  ('cf_pct', 'cf_pct', 'player', 'cf_pct', 'range', 0, 100, 'WARNING',
   'game {game}: {subject} has a Corsi for % of {value}, outside the allowed range {low}–{high}', 'Corsi for % must be 0-100'),
  ('team_shots', 'team_shots', 'team', 'shots', 'range', 20, 120, 'WARNING',
   'game {game}: {subject} has {value} shots, outside the expected range {low}–{high}', 'Team shots (Corsi) per game, 40-80 typical'),
  ('team_sog', 'team_sog', 'team', 'sog', 'range', 10, 70, 'WARNING',
   'game {game}: {subject} has {value} shots on goal, outside the expected range {low}–{high}', 'Team SOG per game'),
  ('team_sog_below_shots', 'team_sog', 'team', 'sog', 'less_than', NULL, NULL, 'WARNING',
   'game {game}: {subject} has {value} shots on goal, not fewer than its {expected} shots', 'SOG should be < shots (Corsi)'),
  ('team_goals', 'team_goals', 'team', 'goals', 'range', 0, 20, 'ERROR',
   'game {game}: {subject} has {value} goals, outside the allowed range {low}–{high}', 'Team goals per game'),
  ('team_goals_official', 'team_goals', 'team', 'goals', 'equals', NULL, NULL, 'ERROR',
   'game {game}: {subject} scored {value} goals in fact_team_game_stats, but the official score in dim_schedule is {expected}', 'Team goals MUST match the dim_schedule official score'),
  ('team_faceoffs', 'team_faceoffs', 'team', 'fo_total', 'range', 25, 80, 'WARNING',
   'game {game}: {subject} took {value} faceoffs, outside the expected range {low}–{high}', 'Total faceoffs per game'),
  ('team_faceoffs_equal', 'team_faceoffs', 'team', 'fo_total', 'equals', NULL, NULL, 'WARNING',
   'game {game}: {subject} took {value} faceoffs, but the other team took {expected}', 'Both teams should have the same fo_total'),
  ('team_passes', 'team_passes', 'team', 'pass_attempts', 'range', 50, 350, 'WARNING',
   'game {game}: {subject} attempted {value} passes, outside the expected range {low}–{high}', 'Team passes per game'),
  ('team_passes_completed', 'team_passes', 'team', 'pass_completed', 'zero', NULL, NULL, 'WARNING',
   'game {game}: {subject} completed {value} passes (a tracking issue?)', 'FLAG if pass_completed = 0 (tracking issue)'),
  ('player_shots', 'player_shots', 'player', 'shots', 'range', 0, 35, 'WARNING',
   'game {game}: {subject} has {value} shots, outside the allowed range {low}–{high}', 'Player shots per game'),
  ('player_shots_high', 'player_shots', 'player', 'shots', 'above', NULL, 30, 'WARNING',
   'game {game}: {subject} has {value} shots, above {high} (an outlier)', 'FLAG if >30 (outlier)'),
  ('player_goals', 'player_goals', 'player', 'goals', 'range', 0, 6, 'ERROR',
   'game {game}: {subject} has {value} goals, outside the allowed range {low}–{high}', 'Player goals per game'),
  ('player_assists', 'player_assists', 'player', 'assists', 'range', 0, 6, 'WARNING',
   'game {game}: {subject} has {value} assists, outside the allowed range {low}–{high}', 'Player assists per game'),
  ('player_zone_entries', 'player_zone_entries', 'player', 'zone_entries', 'range', 0, 25, 'ERROR',
   'game {game}: {subject} has {value} zone entries, outside the allowed range {low}–{high}', 'Player zone entries per game'),
  ('player_zone_entries_high', 'player_zone_entries', 'player', 'zone_entries', 'above', NULL, 20, 'ERROR',
   'game {game}: {subject} has {value} zone entries, above {high}', 'FLAG if >20'),
  ('logical_shifts', 'logical_shifts', 'player', 'logical_shifts', 'range', 3, 25, 'WARNING',
   'game {game}: {subject} has {value} logical shifts, outside the allowed range {low}–{high}', 'Logical shifts per player'),
  ('logical_shifts_typical', 'logical_shifts', 'player', 'logical_shifts', 'range', 5, 20, 'WARNING',
   'game {game}: {subject} has {value} logical shifts, outside the typical range {low}–{high}', 'FLAG if outside 5-20 range'),
  ('toi_seconds', 'toi_seconds', 'player', 'toi_seconds', 'range', 0, 3600, 'WARNING',
   'game {game}: {subject} has a TOI of {value} s, outside the allowed range {low}–{high}', 'TOI in seconds'),
  ('toi_seconds_game_length', 'toi_seconds', 'player', 'toi_seconds', 'at_most', NULL, NULL, 'WARNING',
   'game {game}: {subject} has a TOI of {value} s, longer than the game''s {expected} s of shifts', 'Max = game length'),
  ('avg_shift_seconds', 'avg_shift_seconds', 'player', 'avg_shift', 'range', 20, 300, 'WARNING',
   'game {game}: {subject} has an average shift of {value} s, outside the allowed range {low}–{high}', 'Average shift length'),
  ('avg_shift_seconds_typical', 'avg_shift_seconds', 'player', 'avg_shift', 'range', 30, 180, 'WARNING',
   'game {game}: {subject} has an average shift of {value} s, outside the typical range {low}–{high}', 'FLAG if <30 or >180'),
  ('goalie_saves', 'goalie_saves', 'goalie', 'saves', 'range', 5, 60, 'WARNING',
   'game {game}: goalie {subject} made {value} saves, outside the expected range {low}–{high}', 'Goalie saves per game'),
  ('goalie_saves_consistent', 'goalie_saves', 'goalie', 'saves', 'equals', NULL, NULL, 'WARNING',
   'game {game}: goalie {subject} made {value} saves, but shots against minus goals against is {expected}', 'Validate against shots_against - goals_against'),
  ('goalie_ga', 'goalie_ga', 'goalie', 'goals_against', 'range', 0, 12, 'WARNING',
   'game {game}: goalie {subject} let in {value} goals, outside the expected range {low}–{high}', 'Goals against per game'),
  ('goalie_ga_official', 'goalie_ga', 'goalie', 'goals_against', 'equals', NULL, NULL, 'WARNING',
   'game {game}: goalie {subject} let in {value} goals, but the opponent''s official score in dim_schedule implies {expected}', 'MUST match opponent score from dim_schedule'),
  ('goalies_per_game', 'goalies_per_game', 'game', 'goalies', 'range', 2, 2, 'ERROR',
   'game {game} has {value} goalies in fact_goalie_game_stats, but a tracked game has exactly {low}', 'MUST be exactly 2 per game'),
  ('events_per_game', 'events_per_game', 'game', 'events', 'range', 500, 2000, 'WARNING',
   'game {game} has {value} events, outside the expected range {low}–{high} (incomplete tracking?)', 'FLAG if <500 (incomplete tracking)'),
  ('shifts_per_game', 'shifts_per_game', 'game', 'shifts', 'range', 100, 300, 'WARNING',
   'game {game} has {value} shifts, outside the expected range {low}–{high}', 'FLAG if <100'),
  ('official_score_known', 'team_goals', 'game', 'official_score_known', 'zero', NULL, NULL, 'WARNING',
   'game {game} has team stats but no official score in dim_schedule: its team goals cannot be checked', 'Team goals MUST match dim_schedule: the score must be there');

-- Every measure the rules look at, per game and subject. NULL p_game_ids = every game that
-- has facts. value NULL = not measurable here (no check); expected NULL = nothing to compare.
CREATE FUNCTION quality_measures(p_game_ids integer[])
RETURNS TABLE (game_id integer, level text, subject text, subject_id text, measure text, value numeric, expected numeric)
LANGUAGE sql STABLE AS $$
  WITH games AS (
    SELECT x.game_id FROM (
      SELECT f.game_id FROM fact_events f UNION SELECT f.game_id FROM fact_shifts f
      UNION SELECT f.game_id FROM fact_player_game_stats f UNION SELECT f.game_id FROM fact_team_game_stats f
      UNION SELECT f.game_id FROM fact_goalie_game_stats f) x
    WHERE p_game_ids IS NULL OR x.game_id = ANY (p_game_ids)
  ), goalie_keys AS (
    SELECT gk.game_id, gk.player_id FROM fact_goalie_game_stats gk WHERE gk.game_id IN (SELECT games.game_id FROM games)
  ), game_length AS (
    SELECT s.game_id, sum(s.shift_duration) AS seconds FROM fact_shifts s
    WHERE s.game_id IN (SELECT games.game_id FROM games) GROUP BY s.game_id
  ), goalie_venue AS (
    SELECT gk.*, ds.home_total_goals, ds.away_total_goals,
           CASE WHEN gk.team_name = ds.home_team_name THEN 'home' WHEN gk.team_name = ds.away_team_name THEN 'away' END AS venue
    FROM fact_goalie_game_stats gk LEFT JOIN dim_schedule ds ON ds.game_id = gk.game_id
    WHERE gk.game_id IN (SELECT games.game_id FROM games)
  ), goalie_team AS (
    SELECT gv.*,
           sum(gv.goals_against) OVER (PARTITION BY gv.game_id, gv.venue) AS team_ga,
           max(gv.empty_net_ga) OVER (PARTITION BY gv.game_id, gv.venue) AS team_en_ga,
           CASE gv.venue WHEN 'home' THEN gv.away_total_goals WHEN 'away' THEN gv.home_total_goals END AS opponent_score
    FROM goalie_venue gv
  )
  -- players (skaters)
  SELECT p.game_id, 'player', coalesce(p.player_name, p.player_id) || coalesce(' (' || p.player_id || ')', ''), p.player_id,
         m.measure, m.value, m.expected
  FROM fact_player_game_stats p
  LEFT JOIN game_length gl ON gl.game_id = p.game_id
  CROSS JOIN LATERAL (VALUES
    ('zone_entry_control_pct', CASE WHEN p.zone_entries > 0 THEN round(100.0 * p.zone_entries_controlled / p.zone_entries, 1) END, NULL::numeric),
    ('fo_pct', p.fo_pct, NULL),
    ('pass_pct', p.pass_pct, NULL),
    ('pass_pct_over_10_attempts', CASE WHEN p.pass_attempts > 10 THEN p.pass_pct END, NULL),
    ('shooting_pct', p.shooting_pct, NULL),
    ('cf_pct', p.cf_pct, NULL),
    ('shots', p.shots::numeric, NULL),
    ('goals', p.goals::numeric, NULL),
    ('assists', p.assists::numeric, NULL),
    ('zone_entries', p.zone_entries::numeric, NULL),
    ('logical_shifts', p.logical_shifts::numeric, NULL),
    ('toi_seconds', p.toi_seconds::numeric, gl.seconds),
    ('avg_shift', p.avg_shift, NULL)
  ) AS m(measure, value, expected)
  WHERE p.game_id IN (SELECT games.game_id FROM games)
    AND NOT EXISTS (SELECT 1 FROM goalie_keys k WHERE k.game_id = p.game_id AND k.player_id = p.player_id)
  UNION ALL
  -- teams
  SELECT t.game_id, 'team', coalesce(t.team_name, t.team_id, '?') || ' (' || coalesce(lower(t.venue), '?') || ')', t.team_id,
         m.measure, m.value, m.expected
  FROM fact_team_game_stats t
  LEFT JOIN dim_schedule ds ON ds.game_id = t.game_id
  CROSS JOIN LATERAL (VALUES
    ('shots', t.shots::numeric, NULL::numeric),
    ('sog', t.sog::numeric, t.shots::numeric),
    ('goals', t.goals::numeric, CASE lower(t.venue) WHEN 'home' THEN ds.home_total_goals WHEN 'away' THEN ds.away_total_goals END::numeric),
    ('fo_total', t.fo_total::numeric, (SELECT max(o.fo_total) FROM fact_team_game_stats o
                                       WHERE o.game_id = t.game_id AND lower(o.venue) IS DISTINCT FROM lower(t.venue))::numeric),
    ('pass_attempts', t.pass_attempts::numeric, NULL),
    ('pass_completed', t.pass_completed::numeric, NULL)
  ) AS m(measure, value, expected)
  WHERE t.game_id IN (SELECT games.game_id FROM games)
  UNION ALL
  -- goalies
  SELECT gt.game_id, 'goalie', coalesce(gt.player_name, gt.player_id) || coalesce(' (' || gt.player_id || ')', ''), gt.player_id,
         m.measure, m.value, m.expected
  FROM goalie_team gt
  CROSS JOIN LATERAL (VALUES
    ('save_pct', gt.save_pct, NULL::numeric),
    ('saves', gt.saves::numeric, (gt.shots_against - gt.goals_against)::numeric),
    ('goals_against', gt.goals_against::numeric,
     (gt.opponent_score - (gt.team_ga - gt.goals_against) - coalesce(gt.team_en_ga, 0))::numeric)
  ) AS m(measure, value, expected)
  UNION ALL
  -- games
  SELECT gm.game_id, 'game', 'game ' || gm.game_id, gm.game_id::text, m.measure, m.value, NULL::numeric
  FROM games gm
  LEFT JOIN dim_schedule ds ON ds.game_id = gm.game_id
  CROSS JOIN LATERAL (VALUES
    ('goalies', CASE WHEN EXISTS (SELECT 1 FROM fact_events f WHERE f.game_id = gm.game_id)
                     THEN (SELECT count(*) FROM fact_goalie_game_stats k WHERE k.game_id = gm.game_id) END::numeric),
    ('events', (SELECT count(*) FROM fact_events f WHERE f.game_id = gm.game_id)::numeric),
    ('shifts', (SELECT count(*) FROM fact_shifts f WHERE f.game_id = gm.game_id)::numeric),
    ('official_score_known', CASE WHEN EXISTS (SELECT 1 FROM fact_team_game_stats t WHERE t.game_id = gm.game_id)
                                  THEN (ds.home_total_goals IS NOT NULL AND ds.away_total_goals IS NOT NULL)::integer END::numeric)
  ) AS m(measure, value)
$$;

-- The findings: every measure that breaks a rule, ERRORs first.
CREATE FUNCTION quality_findings(p_game_ids integer[])
RETURNS TABLE (rule text, severity text, game_id integer, level text, subject text, subject_id text,
               value numeric, expected numeric, message text)
LANGUAGE sql STABLE AS $$
  SELECT r.rule, r.severity, m.game_id, m.level, m.subject, m.subject_id, m.value, m.expected,
         replace(replace(replace(replace(replace(replace(r.message,
           '{game}', m.game_id::text), '{subject}', m.subject), '{value}', quality_num(m.value)),
           '{expected}', quality_num(m.expected)), '{low}', quality_num(r.low)), '{high}', quality_num(r.high))
  FROM quality_measures(p_game_ids) m
  JOIN quality_rules r ON r.level = m.level AND r.measure = m.measure
  WHERE m.value IS NOT NULL
    AND CASE r.check_kind
          WHEN 'range' THEN m.value < r.low OR m.value > r.high
          WHEN 'above' THEN m.value > r.high
          WHEN 'below' THEN m.value < r.low
          WHEN 'zero' THEN m.value = 0
          WHEN 'equals' THEN m.expected IS NOT NULL AND m.value <> m.expected
          WHEN 'less_than' THEN m.expected IS NOT NULL AND m.value >= m.expected
          WHEN 'at_most' THEN m.expected IS NOT NULL AND m.value > m.expected
        END
  ORDER BY m.game_id, CASE r.severity WHEN 'ERROR' THEN 0 ELSE 1 END, r.rule, m.subject
$$;

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
