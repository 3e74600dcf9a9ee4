-- ETL step 1: staging → the core facts of one game (fact_shifts, fact_events,
-- fact_events_player, fact_shifts_player), from the views of etl_inputs.sql.

-- Staging → fact_shifts, fact_events, fact_events_player, fact_shifts_player for one game.
-- Returns the rows inserted per table.
CREATE OR REPLACE FUNCTION etl_core_facts(g integer) RETURNS jsonb
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
         -- a change on the fly has no start type in the warehouse (its codes, dim_shift_start_type,
         -- name only the faceoffs and period starts), as the team's export and the generator
         CASE WHEN s.start_type <> 'OnTheFly' THEN s.start_type END, s.stop_type,
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

  CREATE TEMP TABLE etl_event_player_rows ON COMMIT DROP AS SELECT * FROM etl_event_players(g);
  ANALYZE etl_event_player_rows;

  -- Each event with its shift's goalies and its first player (p1_*: side of the puck, play
  -- details, play success), and its success (etl_event_successful).
  CREATE TEMP TABLE etl_event_rows ON COMMIT DROP AS
  SELECT e.*, s.home_goalie, s.away_goalie, s.manned,
         p1.side_of_puck AS p1_side_of_puck, p1.play_d1 AS p1_play_d1, p1.play_d2 AS p1_play_d2, p1.play_success AS p1_play_success,
         etl_event_successful(e.success, e.event_type, e.event_detail, p1.play_success) AS event_successful
  FROM etl_events(g) e
  LEFT JOIN etl_shift_rows s ON s.shift_index = e.shift_index
  LEFT JOIN (SELECT DISTINCT ON (x.idx) x.* FROM etl_event_player_rows x WHERE x.role = 'event_player_1'
             ORDER BY x.idx, x.pos_in_event) p1 ON p1.idx = e.idx;
  -- Fresh statistics, so that the joins below are planned as hash joins.
  ANALYZE etl_event_rows;

  INSERT INTO fact_events (
    event_key, game_id, period, event_index, linked_event_index, sequence_index, play_index, event_type, tracking_event_index,
    event_start_min, event_start_sec, event_end_min, event_end_sec, role_abrev, event_team_zone, home_team_zone, away_team_zone,
    team_venue, team_venue_abv, side_of_puck, play_detail1, play_detail_2, play_detail_successful, home_team, away_team, type,
    event_detail, event_detail_2, event_successful, shift_index, duration, time_start_total_seconds, time_end_total_seconds,
    period_id, venue_id, home_team_id, away_team_id, shift_key, empty_net_goal)
  -- tracking_event_index: the link of a linked event, else the event's own index (as the
  -- team's ETL writes it, and loader/generate/core-rows.ts)
  SELECT e.event_key, g, e.period, e.event_index, e.linked_event_index, e.sequence_index, e.play_index, e.event_type,
         coalesce(e.linked_event_index, e.event_index),
         floor(e.start_s / 60)::integer, floor(e.start_s - floor(e.start_s / 60) * 60)::integer,
         -- no end time for an event of no duration (it ends as it starts), as the team's export
         CASE WHEN floor(e.start_s - e.end_s) <> 0 THEN floor(e.end_s / 60)::integer END,
         CASE WHEN floor(e.start_s - e.end_s) <> 0 THEN floor(e.end_s - floor(e.end_s / 60) * 60)::integer END,
         CASE WHEN e.venue IN ('home', 'away') THEN 'e' END,
         e.zone,
         CASE e.venue WHEN 'home' THEN e.zone WHEN 'away' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'away' THEN e.zone WHEN 'home' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'home' THEN 'Home' WHEN 'away' THEN 'Away' END,
         CASE e.venue WHEN 'home' THEN 'h' WHEN 'away' THEN 'a' END,
         e.p1_side_of_puck, e.p1_play_d1, e.p1_play_d2, e.p1_play_success,
         t.home_team, t.away_team, e.event_type, e.event_detail,
         etl_warehouse_detail_2(e.detail2),
         e.event_successful,
         e.shift_index, floor(e.start_s - e.end_s)::integer, floor(e.start_s)::integer, floor(e.end_s)::integer,
         'P' || lpad(e.period::text, 4, '0'),
         CASE e.venue WHEN 'home' THEN 'VN0001' WHEN 'away' THEN 'VN0002' END,
         t.home_team_id, t.away_team_id,
         CASE WHEN e.shift_index IS NOT NULL THEN etl_key('SH', g, e.shift_index) END,
         CASE WHEN e.event_type = 'Goal' AND e.manned
                   AND ((e.venue = 'home' AND NOT e.away_goalie) OR (e.venue = 'away' AND NOT e.home_goalie)) THEN 1 ELSE 0 END
  FROM etl_event_rows e
  CROSS JOIN etl_game_teams(g) t;
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
         p.num, e.linked_event_index, coalesce(e.linked_event_index, e.event_index),
         floor(e.start_s / 60)::integer, floor(e.start_s - floor(e.start_s / 60) * 60)::integer,
         -- no end time for an event of no duration (it ends as it starts), as the team's export
         CASE WHEN floor(e.start_s - e.end_s) <> 0 THEN floor(e.end_s / 60)::integer END,
         CASE WHEN floor(e.start_s - e.end_s) <> 0 THEN floor(e.end_s - floor(e.end_s / 60) * 60)::integer END,
         p.role_abrev, e.zone,
         CASE e.venue WHEN 'home' THEN e.zone WHEN 'away' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'away' THEN e.zone WHEN 'home' THEN etl_flip_zone(e.zone) END,
         CASE e.venue WHEN 'home' THEN 'Home' WHEN 'away' THEN 'Away' END,
         CASE e.venue WHEN 'home' THEN 'h' WHEN 'away' THEN 'a' END,
         p.side_of_puck, e.sequence_index, e.play_index, p.play_d1, p.play_d2, p.play_success,
         t.home_team, t.away_team, e.event_type, e.event_detail, etl_warehouse_detail_2(e.detail2),
         e.event_successful,
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
