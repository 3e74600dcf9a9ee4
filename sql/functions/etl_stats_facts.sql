-- ETL step 2: core facts → the box scores of one game (fact_player_game_stats,
-- fact_team_game_stats, fact_goalie_game_stats). It reads only the fact tables, so its rules
-- also hold for core facts loaded from CSV.

-- The game's teams as the core facts name them (fact_events, else fact_shifts), ids
-- completed from dim_schedule. The stats steps read only the fact tables, so they give the
-- same answer for a game whose core facts were loaded from CSV.
CREATE OR REPLACE FUNCTION etl_fact_teams(g integer)
RETURNS TABLE (home_team text, away_team text, home_team_id text, away_team_id text)
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT max(e.home_team) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.home_team) FROM fact_shifts s WHERE s.game_id = g), ds.home_team_name),
         coalesce((SELECT max(e.away_team) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.away_team) FROM fact_shifts s WHERE s.game_id = g), ds.away_team_name),
         coalesce((SELECT max(e.home_team_id) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.home_team_id) FROM fact_shifts s WHERE s.game_id = g), ds.home_team_id),
         coalesce((SELECT max(e.away_team_id) FROM fact_events e WHERE e.game_id = g), (SELECT max(s.away_team_id) FROM fact_shifts s WHERE s.game_id = g), ds.away_team_id)
  FROM (SELECT g AS game_id) x
  LEFT JOIN dim_schedule ds ON ds.game_id = x.game_id
$$;

-- The game's home and away teams as the schedule has them (dim_schedule), else as the core
-- facts do. The team's ETL writes the box scores' and pairs' home_team_id / away_team_id,
-- and a team's venue, from the schedule, even where the tracking has the teams the other way
-- round (its export of game 18987: Velodrome tracked as home, Outlaws home in the schedule
-- and in every stats table).
CREATE OR REPLACE FUNCTION etl_schedule_teams(g integer)
RETURNS TABLE (home_team_id text, away_team_id text)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(ds.home_team_id, t.home_team_id), coalesce(ds.away_team_id, t.away_team_id)
  FROM etl_fact_teams(g) t
  LEFT JOIN dim_schedule ds ON ds.game_id = g
$$;

-- An event detail as a player's statistics match it: a hand-typed Shot-Blocked or Shot-OnNet
-- (the tracking's; the team's export of game 18977 has 30 such details) is Shot_Blocked and
-- Shot_OnNet, as the team's ETL counts them for the player. The fact tables keep the detail
-- as written.
CREATE OR REPLACE FUNCTION etl_detail(detail text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT replace(detail, '-', '_') $$;

-- Shots on goal: the data dictionary's list (dd_fact_player_game_stats.csv, shots_on_goal).
CREATE OR REPLACE FUNCTION etl_is_on_net(detail text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(detail IN ('Shot_OnNetSaved', 'Shot_Goal', 'Shot_TippedOnNetSaved', 'Shot_DeflectedOnNetSaved', 'Shot_OnNetTippedGoal'), false) $$;

-- Core facts → fact_player_game_stats, fact_team_game_stats, fact_goalie_game_stats.
CREATE OR REPLACE FUNCTION etl_stats_facts(g integer) RETURNS jsonb
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
    zone_entry_carry, zone_entry_pass, zone_entry_dump, zone_entries_controlled, zone_entries_uncontrolled,
    zone_entry_control_pct)
  WITH sp AS (
    SELECT s.player_id, max(s.player_name) AS player_name, count(*)::integer AS shift_count,
           coalesce(sum(s.shift_duration), 0)::integer AS toi, coalesce(sum(s.playing_duration), 0)::integer AS ptoi,
           coalesce(sum(s.stoppage_time), 0)::integer AS stoppage, count(DISTINCT s.logical_shift_number)::integer AS logical,
           coalesce(sum(s.pm_plus_ev), 0)::integer AS plus_ev, coalesce(sum(s.pm_minus_ev), 0)::integer AS minus_ev,
           coalesce(sum(s.goal_for), 0)::integer AS gf, coalesce(sum(s.goal_against), 0)::integer AS ga,
           -- the reference ETL's EN-adjusted minus: the even-strength minus without the goals
           -- against while his team's net was empty (team_en = 1)
           coalesce(sum(s.pm_minus_ev) FILTER (WHERE coalesce(s.team_en, 0) = 0), 0)::integer AS minus_ev_adj
    FROM fact_shifts_player s WHERE s.game_id = g AND s.player_id IS NOT NULL
    GROUP BY s.player_id
  ), ep AS (
    SELECT p.player_id, max(p.player_name) AS player_name,
           count(*) FILTER (WHERE p.event_type = 'Goal' AND p.player_role = 'event_team_player_1') AS goals,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1') AS shots,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1' AND (etl_is_on_net(p.d) OR etl_detail(p.d) = 'Shot_OnNet')) AS sog,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1' AND etl_detail(p.d) = 'Shot_Blocked') AS blocked,
           count(*) FILTER (WHERE p.event_type = 'Shot' AND p.player_role = 'event_team_player_1' AND etl_detail(p.d) LIKE 'Shot\_Missed%') AS missed,
           count(*) FILTER (WHERE p.event_type = 'Pass' AND p.player_role = 'event_team_player_1') AS passes,
           count(*) FILTER (WHERE p.event_type = 'Pass' AND p.player_role = 'event_team_player_1' AND p.d = 'Pass_Completed') AS passes_completed,
           count(*) FILTER (WHERE p.event_type = 'Faceoff' AND p.player_role = 'event_team_player_1') AS fo_wins,
           count(*) FILTER (WHERE p.event_type = 'Faceoff' AND p.player_role = 'opp_team_player_1') AS fo_losses,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.d LIKE '%Entry%') AS entries,
           -- zone_entry_carry / _pass / _dump: his plays whose event_detail_2 is ZoneEntry-Rush
           -- (the tracker now says Carried) / ZoneEntry-Pass / ZoneEntry-DumpIn or ZoneEntry-Chip,
           -- whatever the event_detail, as the dictionary defines them (dd_fact_player_game_stats.csv)
           -- and the team's ETL counts them (a Zone_Exit tagged ZoneEntry-Pass counts)
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail_2 ~* '^ZoneEntry[-_](Carried|Rush)$') AS entries_carry,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail_2 ~* '^ZoneEntry[-_]Pass$') AS entries_pass,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_detail_2 ~* '^ZoneEntry[-_](DumpIn|Chip)$') AS entries_dump,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.d LIKE '%Exit%') AS exits,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_type = 'Turnover' AND p.d LIKE '%Giveaway%') AS giveaways,
           count(*) FILTER (WHERE p.player_role = 'event_team_player_1' AND p.event_type = 'Turnover' AND p.d LIKE '%Takeaway%') AS takeaways
    FROM (SELECT p.*, coalesce(p.event_detail, '') AS d FROM fact_events_player p WHERE p.game_id = g AND p.player_id IS NOT NULL) p
    GROUP BY p.player_id
  ), assist_tags AS (
    -- An assist tag (a play detail that CONTAINS "Assist", as the dictionary says:
    -- AssistPrimary, AssistSecondary, or the workbook's OffensivePlay_Pass-AssistSecondary, on
    -- a player of the event's team) credits the player with the next goal of that team in the
    -- period; once per goal, however many of the player's plays leading to it are tagged.
    SELECT p.player_id, (p.play_detail1 LIKE '%AssistSecondary%' OR p.play_detail_2 LIKE '%AssistSecondary%') AS secondary,
           (SELECT min(e.event_index) FROM fact_events e
            WHERE e.game_id = g AND e.event_type = 'Goal' AND e.team_venue = p.team_venue AND e.period = p.period
              AND e.event_index > p.event_index) AS goal_index
    FROM fact_events_player p
    WHERE p.game_id = g AND p.player_id IS NOT NULL AND p.player_role LIKE 'event\_team\_player\_%'
      AND (p.play_detail1 LIKE '%Assist%' OR p.play_detail_2 LIKE '%Assist%')
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
           count(*) FILTER (WHERE lower(e.team_venue) = etl_other_side(s.venue)) AS ca,
           count(*) FILTER (WHERE lower(e.team_venue) = s.venue AND coalesce(etl_detail(e.event_detail), '') NOT LIKE 'Shot\_Blocked%') AS ff,
           count(*) FILTER (WHERE lower(e.team_venue) = etl_other_side(s.venue) AND coalesce(etl_detail(e.event_detail), '') NOT LIKE 'Shot\_Blocked%') AS fa
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
           coalesce(sp.gf, 0) AS gf, coalesce(sp.ga, 0) AS ga, coalesce(sp.minus_ev_adj, 0) AS minus_ev_adj,
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
         CASE WHEN x.shots > 0 THEN etl_pct(x.goals, x.shots) ELSE 0 END,
         x.passes, x.passes_completed, CASE WHEN x.passes > 0 THEN etl_pct(x.passes_completed, x.passes) ELSE 0 END,
         x.fo_wins, x.fo_losses, x.fo_wins + x.fo_losses,
         CASE WHEN x.fo_wins + x.fo_losses > 0 THEN etl_pct(x.fo_wins, x.fo_wins + x.fo_losses) ELSE 0 END,
         x.entries, x.exits, x.giveaways, x.takeaways,
         x.toi, etl_round(x.toi / 60.0::double precision, 1), x.ptoi, etl_round(x.ptoi / 60.0::double precision, 1), x.stoppage, x.shift_count, x.logical,
         -- avg_shift = toi / logical_shifts (the dictionary); for a player with no shift the team's
         -- ETL writes 60.0, and its avg_playing_shift is avg_shift (all 107 rows of its export)
         CASE WHEN x.logical > 0 THEN etl_round(x.toi::double precision / x.logical, 1) ELSE 60.0 END,
         CASE WHEN x.logical > 0 THEN etl_round(x.toi::double precision / x.logical, 1) ELSE 60.0 END,
         CASE WHEN x.toi > 0 THEN etl_round(x.goals * 3600.0::double precision / x.toi, 2) ELSE 0 END,
         CASE WHEN x.toi > 0 THEN etl_round(x.assists * 3600.0::double precision / x.toi, 2) ELSE 0 END,
         CASE WHEN x.toi > 0 THEN etl_round((x.goals + x.assists) * 3600.0::double precision / x.toi, 2) ELSE 0 END,
         CASE WHEN x.toi > 0 THEN etl_round(x.shots * 3600.0::double precision / x.toi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN etl_round(x.goals * 3600.0::double precision / x.ptoi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN etl_round(x.assists * 3600.0::double precision / x.ptoi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN etl_round((x.goals + x.assists) * 3600.0::double precision / x.ptoi, 2) ELSE 0 END,
         CASE WHEN x.ptoi > 0 THEN etl_round(x.shots * 3600.0::double precision / x.ptoi, 2) ELSE 0 END,
         x.cf, x.ca, x.ff, x.fa,
         CASE WHEN x.cf + x.ca > 0 THEN etl_pct(x.cf, x.cf + x.ca) ELSE 0 END,
         CASE WHEN x.ff + x.fa > 0 THEN etl_pct(x.ff, x.ff + x.fa) ELSE 0 END,
         x.plus_ev, x.minus_ev, x.plus_ev + x.minus_ev,
         x.gf, -x.ga, x.gf - x.ga,
         -- plus_en_adj = plus_ev; minus_en_adj = minus_ev without empty-net goals against
         x.plus_ev, x.minus_ev_adj, x.plus_ev + x.minus_ev_adj,
         st.home_team_id, st.away_team_id, x.secondary_assists,
         x.entries_carry, x.entries_pass, x.entries_dump, x.entries_carry + x.entries_pass, x.entries_dump,
         -- ROUND(zone_entries_controlled / zone_entries * 100, 1) (the dictionary); 0 with no entries, as the real export
         CASE WHEN x.entries > 0 THEN etl_pct(x.entries_carry + x.entries_pass, x.entries) ELSE 0 END
  FROM x CROSS JOIN etl_schedule_teams(g) st;
  GET DIAGNOSTICS n_players = ROW_COUNT;

  -- Teams: counted from the rows of each side's players (so a scorer missing from the roster
  -- still counts for his team). Only for a game that has core facts.
  INSERT INTO fact_team_game_stats (
    team_game_key, game_id, venue, goals, shots, fo_wins, giveaways, takeaways, zone_entries, zone_exits, pass_attempts,
    pass_completed, fo_losses, sog, fo_total, fo_pct, pass_pct, shooting_pct, venue_id, home_team_id, away_team_id, team_id,
    controlled_entries, corsi_for, corsi_against, cf_pct, team_name,
    total_sog, total_passes, total_pass_completed, team_pass_pct, total_zone_entries, total_zone_exits,
    total_giveaways, total_takeaways, turnover_diff, total_fo_wins)
  WITH v(venue, n) AS (VALUES ('home', 1), ('away', 2)),
  e AS (SELECT lower(f.team_venue) AS venue, f.event_type, coalesce(f.event_detail, '') AS event_detail, f.event_detail_2 FROM fact_events f WHERE f.game_id = g),
  -- the counts the dictionary defines (dd_fact_team_game_stats.csv): the rows of the event's
  -- first player (event_team_player_1) whose player_team is the team
  ep AS (
    SELECT CASE p.player_team WHEN t.home_team THEN 'home' WHEN t.away_team THEN 'away' END AS venue,
           p.event_type, coalesce(p.event_detail, '') AS event_detail, p.event_successful
    FROM fact_events_player p CROSS JOIN etl_fact_teams(g) t
    WHERE p.game_id = g AND p.player_role = 'event_team_player_1'
  ), k AS (
    SELECT v.venue,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Goal')::integer AS goals,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Shot')::integer AS shots,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Shot' AND etl_is_on_net(ep.event_detail))::integer AS sog,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Faceoff')::integer AS fo_wins,
           -- the game's faceoffs less the team's wins
           count(*) FILTER (WHERE ep.event_type = 'Faceoff' AND ep.venue IS DISTINCT FROM v.venue)::integer AS fo_losses,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Turnover' AND ep.event_detail LIKE '%Giveaway%')::integer AS giveaways,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Turnover' AND ep.event_detail LIKE '%Takeaway%')::integer AS takeaways,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Pass')::integer AS passes,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Pass' AND ep.event_successful = 's')::integer AS passes_completed,
           -- the game's totals count the completed passes by their detail
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_type = 'Pass' AND ep.event_detail = 'Pass_Completed')::integer AS passes_completed_detail,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_detail LIKE '%Entry%')::integer AS entries,
           count(*) FILTER (WHERE ep.venue = v.venue AND ep.event_detail LIKE '%Exit%')::integer AS exits
    FROM v LEFT JOIN ep ON true
    GROUP BY v.venue
  ),
  -- the rest from the side's events
  ev AS (
    SELECT v.venue,
           count(e.*) FILTER (WHERE e.venue = v.venue AND e.event_detail = 'Zone_Entry' AND e.event_detail_2 ~* '^ZoneEntry[-_](Carried|Rush|Pass)$')::integer AS controlled,
           count(e.*) FILTER (WHERE e.venue = v.venue AND e.event_type IN ('Shot', 'Goal'))::integer AS cf,
           count(e.*) FILTER (WHERE e.venue = etl_other_side(v.venue) AND e.event_type IN ('Shot', 'Goal'))::integer AS ca
    FROM v LEFT JOIN e ON true
    GROUP BY v.venue
  ),
  c AS (SELECT v.n, k.*, ev.controlled, ev.cf, ev.ca FROM v JOIN k USING (venue) JOIN ev USING (venue))
  -- a team's counts by its side in the tracking (c.venue); its venue, key order and the game's
  -- home/away ids by the schedule (etl_schedule_teams)
  SELECT etl_key('TG', g, row_number() OVER (ORDER BY tm.venue = 'away', c.n)), g, CASE tm.venue WHEN 'home' THEN 'Home' ELSE 'Away' END,
         c.goals, c.shots, c.fo_wins, c.giveaways, c.takeaways, c.entries, c.exits, c.passes, c.passes_completed,
         c.fo_losses, c.sog, c.fo_wins + c.fo_losses,
         CASE WHEN c.fo_wins + c.fo_losses > 0 THEN etl_pct(c.fo_wins, c.fo_wins + c.fo_losses) ELSE 0 END,
         CASE WHEN c.passes > 0 THEN etl_pct(c.passes_completed, c.passes) ELSE 0 END,
         CASE WHEN c.sog > 0 THEN etl_pct(c.goals, c.sog) ELSE 0 END,  -- per shot on goal, as the real export
         CASE tm.venue WHEN 'home' THEN 'VN0001' ELSE 'VN0002' END,
         st.home_team_id, st.away_team_id, tm.team_id,
         c.controlled, c.cf, c.ca, CASE WHEN c.cf + c.ca > 0 THEN etl_pct(c.cf, c.cf + c.ca) ELSE 0 END,
         tm.team_name,
         -- total_*: the game's totals, both teams together (the same on both rows, as in the real export)
         sum(c.sog) OVER (), sum(c.passes) OVER (), sum(c.passes_completed_detail) OVER (),
         CASE WHEN sum(c.passes) OVER () > 0 THEN etl_pct(sum(c.passes_completed_detail) OVER (), sum(c.passes) OVER ()) ELSE 0 END,
         sum(c.entries) OVER (), sum(c.exits) OVER (), sum(c.giveaways) OVER (), sum(c.takeaways) OVER (),
         sum(c.takeaways) OVER () - sum(c.giveaways) OVER (), sum(c.fo_wins) OVER ()
  FROM c CROSS JOIN etl_fact_teams(g) t CROSS JOIN etl_schedule_teams(g) st
  CROSS JOIN LATERAL (
    SELECT x.team_id, x.team_name,
           CASE x.team_id WHEN st.home_team_id THEN 'home' WHEN st.away_team_id THEN 'away' ELSE c.venue END AS venue
    FROM (SELECT CASE c.venue WHEN 'home' THEN t.home_team_id ELSE t.away_team_id END AS team_id,
                 CASE c.venue WHEN 'home' THEN t.home_team ELSE t.away_team END AS team_name) x
  ) tm
  WHERE EXISTS (SELECT 1 FROM fact_events f WHERE f.game_id = g) OR EXISTS (SELECT 1 FROM fact_shifts f WHERE f.game_id = g);
  GET DIAGNOSTICS n_teams = ROW_COUNT;

  -- Goalies: whoever played the goalie slot, or made a save.
  INSERT INTO fact_goalie_game_stats (
    goalie_game_key, game_id, player_id, player_name, team_name, saves, goals_against, shots_against, save_pct, toi_seconds,
    empty_net_ga, saves_rebound, saves_freeze, saves_glove, saves_blocker, saves_left_pad, saves_right_pad,
    rebound_control_pct, total_save_events)
  WITH gk AS (
    -- goals against: the other side's Goal events in the shifts he played
    SELECT s.player_id, max(s.player_name) AS player_name, max(s.venue) AS venue,
           count(f.*)::integer AS ga
    FROM fact_shifts_player s
    LEFT JOIN fact_events f ON f.game_id = g AND f.shift_index = s.shift_index AND f.event_type = 'Goal'
                           AND lower(f.team_venue) = etl_other_side(s.venue)
    WHERE s.game_id = g AND s.slot = 'goalie' AND s.player_id IS NOT NULL
    GROUP BY s.player_id
  ), sv AS (
    -- saves: the Save events of the goalie's side (their first player's team), all his when he
    -- is its only goalie (a save a skater is tagged with counts for the goalie, as the team's
    -- ETL counts it); a side with no goalie on its shifts has whoever made its saves
    SELECT p.player_id, max(p.player_name) AS player_name,
           max(CASE p.player_team WHEN p.home_team THEN 'home' WHEN p.away_team THEN 'away' ELSE lower(p.team_venue) END) AS venue,
           count(*)::integer AS saves
    FROM fact_events_player p
    WHERE p.game_id = g AND p.event_type = 'Save' AND p.player_role = 'event_team_player_1' AND p.player_id IS NOT NULL
    GROUP BY p.player_id
  ), side_saves AS (
    SELECT sv.venue, sum(sv.saves)::integer AS saves,
           sum(sv.saves) FILTER (WHERE sv.player_id NOT IN (SELECT gk.player_id FROM gk))::integer AS by_others
    FROM sv GROUP BY sv.venue
  ), tsv AS (
    -- The save breakdown as the data dictionary defines it (dd_fact_goalie_game_stats.csv):
    -- COUNT(fact_events_player) WHERE event_type = 'Save' AND player_team = the goalie's team,
    -- and event_detail CONTAINS 'Rebound' / 'Freeze', event_detail_2 CONTAINS 'Glove' /
    -- 'Blocker' / 'LeftPad' / 'RightPad': rows of the event's players on the goalie's side,
    -- whatever their role (the team's ETL counts them so).
    SELECT CASE WHEN p.player_team = p.home_team THEN 'home' ELSE 'away' END AS venue,
           count(*)::integer AS events,
           count(*) FILTER (WHERE p.event_detail LIKE '%Rebound%')::integer AS rebound,
           count(*) FILTER (WHERE p.event_detail LIKE '%Freeze%')::integer AS freeze,
           count(*) FILTER (WHERE p.event_detail_2 LIKE '%Glove%')::integer AS glove,
           count(*) FILTER (WHERE p.event_detail_2 LIKE '%Blocker%')::integer AS blocker,
           count(*) FILTER (WHERE p.event_detail_2 LIKE '%LeftPad%')::integer AS left_pad,
           count(*) FILTER (WHERE p.event_detail_2 LIKE '%RightPad%')::integer AS right_pad
    FROM fact_events_player p
    WHERE p.game_id = g AND p.event_type = 'Save' AND p.player_team IS NOT NULL AND p.player_team IN (p.home_team, p.away_team)
    GROUP BY 1
  ), en AS (
    -- goals into an empty net, by the side that conceded them
    SELECT etl_other_side(lower(f.team_venue)) AS venue, count(*)::integer AS n
    FROM fact_events f WHERE f.game_id = g AND f.event_type = 'Goal' AND f.empty_net_goal = 1
    GROUP BY 1
  ), x AS (
    SELECT gk.player_id, gk.player_name, gk.venue,
           coalesce(sv.saves, 0) + CASE WHEN count(*) OVER (PARTITION BY gk.venue) = 1 THEN coalesce(ss.by_others, 0) ELSE 0 END AS saves,
           gk.ga
    FROM gk LEFT JOIN sv ON sv.player_id = gk.player_id LEFT JOIN side_saves ss ON ss.venue = gk.venue
    UNION ALL
    SELECT sv.player_id, sv.player_name, sv.venue, sv.saves, 0
    FROM sv WHERE NOT EXISTS (SELECT 1 FROM gk WHERE gk.venue = sv.venue)
  ), y AS (
    SELECT x.*, coalesce(tsv.events, 0) AS events,
           coalesce(tsv.rebound, 0) AS rebound, coalesce(tsv.freeze, 0) AS freeze, coalesce(tsv.glove, 0) AS glove,
           coalesce(tsv.blocker, 0) AS blocker, coalesce(tsv.left_pad, 0) AS left_pad, coalesce(tsv.right_pad, 0) AS right_pad
    FROM x LEFT JOIN tsv ON tsv.venue = x.venue
  )
  -- keys in the order of the team's name, then the player's (the team's ETL's order in all
  -- four games of its export, home or away)
  SELECT etl_key('GK', g, row_number() OVER (ORDER BY CASE y.venue WHEN 'home' THEN t.home_team WHEN 'away' THEN t.away_team END, y.player_id)),
         g, y.player_id, y.player_name,
         CASE y.venue WHEN 'home' THEN t.home_team WHEN 'away' THEN t.away_team END,
         y.saves, y.ga, y.saves + y.ga,
         CASE WHEN y.saves + y.ga > 0 THEN etl_pct(y.saves, y.saves + y.ga) END,
         -- toi_seconds: the dictionary's "game length (2700 for 45 min) - empty-net time" as the
         -- team's ETL writes it: 2700 for every goalie of every game of its export, whatever
         -- the periods' length (18 min there) and the time a goalie was pulled
         2700, coalesce(en.n, 0), y.rebound, y.freeze, y.glove, y.blocker, y.left_pad, y.right_pad,
         -- the dictionary's ROUND(saves_freeze / (saves_freeze + saves_rebound) * 100, 1) over all
         -- the side's save events, as the team's ETL computes it (the two differ when a save
         -- is neither: a Save_Played)
         CASE WHEN y.events > 0 THEN etl_pct(y.freeze, y.events) END,
         y.events
  FROM y CROSS JOIN etl_fact_teams(g) t
  LEFT JOIN en ON en.venue = y.venue;
  GET DIAGNOSTICS n_goalies = ROW_COUNT;

  RETURN jsonb_build_object('fact_player_game_stats', n_players, 'fact_team_game_stats', n_teams,
                            'fact_goalie_game_stats', n_goalies);
END $$;
