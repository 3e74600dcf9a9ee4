-- ETL step 3: core facts → fact_h2h and fact_wowy of one game.

-- Core facts → fact_h2h (opponents: every home player × away player who shared a shift)
-- and fact_wowy (teammates: every pair of players of one side, with and without each other).
CREATE OR REPLACE FUNCTION etl_analytics_facts(g integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  n_h2h integer; n_wowy integer;
BEGIN
  -- One row per player and shift, with the goals and the shot attempts of each side in it.
  CREATE TEMP TABLE etl_player_shifts ON COMMIT DROP AS
  WITH ev AS (
    SELECT f.shift_index, lower(f.team_venue) AS venue, count(*) FILTER (WHERE f.event_type IN ('Shot', 'Goal'))::integer AS cf
    FROM fact_events f WHERE f.game_id = g AND f.shift_index IS NOT NULL
    GROUP BY 1, 2
  )
  SELECT s.shift_index, s.venue, s.player_id, s.player_name, s.player_number, s.logical_shift_number,
         coalesce(s.goal_for, 0) AS gf, coalesce(s.goal_against, 0) AS ga, coalesce(mine.cf, 0) AS cf, coalesce(theirs.cf, 0) AS ca
  FROM fact_shifts_player s
  LEFT JOIN ev mine ON mine.shift_index = s.shift_index AND mine.venue = s.venue
  -- the other side's events only (an event of no side is neither's)
  LEFT JOIN ev theirs ON theirs.shift_index = s.shift_index AND theirs.venue = etl_other_side(s.venue)
  WHERE s.game_id = g AND s.player_id IS NOT NULL;
  ANALYZE etl_player_shifts;

  -- Head to head as the team's ETL writes it after its fix script (all 684 rows of its
  -- export's four games): the pairs and their shifts together counted, the rest estimated
  -- from them, 45 s of ice time per shift together, and per shift together a fiftieth of
  -- the player's goals and shots in the game (player 1's for, player 2's against), rounded
  -- to 0.1; Fenwick 0.8 of that; cf_pct and ff_pct over the rounded figures, 50.0 when both
  -- are 0; no xG model, so xG 0.0 (test/etl/README.md, "Parity").
  INSERT INTO fact_h2h (
    game_id, player_1_id, player_2_id, shifts_together, home_team_id, away_team_id, toi_together, goals_for, goals_against,
    plus_minus, corsi_for, corsi_against, cf_pct, fenwick_for, fenwick_against, ff_pct, xgf, xga, xg_diff, shots_for, shots_against,
    h2h_key, player_1_name, player_2_name)
  WITH pairs AS (
    SELECT a.player_id AS p1, b.player_id AS p2, max(a.player_name) AS n1, max(b.player_name) AS n2, count(*)::integer AS shifts
    FROM etl_player_shifts a
    JOIN etl_player_shifts b ON b.shift_index = a.shift_index AND b.venue = 'away'
    WHERE a.venue = 'home'
    GROUP BY a.player_id, b.player_id
  ), per_game AS (
    SELECT s.player_id, coalesce(s.goals, 0)::double precision AS goals, coalesce(s.shots, 0)::double precision AS shots
    FROM fact_player_game_stats s WHERE s.game_id = g
  ), est AS (
    SELECT p.*,
           etl_round(p.shifts * coalesce(a.goals, 0) / 50, 1) AS gf, etl_round(p.shifts * coalesce(b.goals, 0) / 50, 1) AS ga,
           etl_round(p.shifts * coalesce(a.shots, 0) / 50, 1) AS cf, etl_round(p.shifts * coalesce(b.shots, 0) / 50, 1) AS ca,
           etl_round(p.shifts * coalesce(a.shots, 0) / 50 * 0.8, 1) AS ff, etl_round(p.shifts * coalesce(b.shots, 0) / 50 * 0.8, 1) AS fa
    FROM pairs p
    LEFT JOIN per_game a ON a.player_id = p.p1
    LEFT JOIN per_game b ON b.player_id = p.p2
  )
  SELECT g, p.p1, p.p2, p.shifts, st.home_team_id, st.away_team_id, 45 * p.shifts, p.gf, p.ga, etl_round((p.gf - p.ga)::double precision, 1),
         p.cf, p.ca, coalesce(etl_pct(p.cf, p.cf + p.ca), 50.0),
         p.ff, p.fa, coalesce(etl_pct(p.ff, p.ff + p.fa), 50.0), 0.0, 0.0, 0.0,
         p.cf, p.ca, etl_key('HH', g, row_number() OVER (ORDER BY p.p1, p.p2)), p.n1, p.n2
  FROM est p CROSS JOIN etl_schedule_teams(g) st;
  GET DIAGNOSTICS n_h2h = ROW_COUNT;

  INSERT INTO fact_wowy (
    game_id, player_1_id, player_2_id, venue, shifts_together, p1_shifts_without_p2, p2_shifts_without_p1,
    p1_logical_shifts, p2_logical_shifts, venue_id, home_team_id, away_team_id, toi_together, toi_apart,
    gf_pct_together, gf_pct_apart, gf_pct_delta, cf_pct_together, cf_pct_apart, cf_pct_delta,
    xgf_pct_together, xgf_pct_apart, xgf_pct_delta, relative_corsi, relative_fenwick, wowy_key, player_1_name, player_2_name)
  WITH pl AS (
    SELECT s.venue, s.player_id, max(s.player_name) AS name, min(s.player_number) AS num, count(*)::integer AS shifts,
           count(DISTINCT s.logical_shift_number)::integer AS logical, sum(s.gf) AS gf, sum(s.ga) AS ga,
           sum(s.cf) AS cf, sum(s.ca) AS ca
    FROM etl_player_shifts s GROUP BY s.venue, s.player_id
  ), together AS (
    SELECT a.player_id AS p1, b.player_id AS p2, count(*)::integer AS shifts, sum(a.gf) AS gf,
           sum(a.ga) AS ga, sum(a.cf) AS cf, sum(a.ca) AS ca
    FROM etl_player_shifts a
    JOIN etl_player_shifts b ON b.shift_index = a.shift_index AND b.venue = a.venue AND b.player_id <> a.player_id
    GROUP BY a.player_id, b.player_id
  ), w AS (
    SELECT a.venue, a.player_id AS p1, b.player_id AS p2, a.name AS n1, b.name AS n2, a.num AS num1, b.num AS num2,
           -- the shift counts and times as the team's ETL writes them (all 641 rows of its four
           -- games): the shifts together in player 1's logical shifts (shared shifts / his
           -- shifts × his logical shifts, rounded half to even), each player's logical shifts
           -- without the other (negative where player 2 has fewer logical shifts than that),
           -- and 45 s for each shift together and apart
           etl_round(coalesce(t.shifts, 0)::double precision / a.shifts * a.logical, 0)::integer AS shifts,
           a.logical AS l1, b.logical AS l2,
           45 * coalesce(t.shifts, 0) AS toi, 45 * (a.shifts - coalesce(t.shifts, 0)) AS toi_apart,
           coalesce(t.gf, 0) AS gf, coalesce(t.ga, 0) AS ga, a.gf - coalesce(t.gf, 0) AS gf_apart, a.ga - coalesce(t.ga, 0) AS ga_apart,
           coalesce(t.cf, 0) AS cf, coalesce(t.ca, 0) AS ca, a.cf - coalesce(t.cf, 0) AS cf_apart, a.ca - coalesce(t.ca, 0) AS ca_apart
    FROM pl a
    JOIN pl b ON b.venue = a.venue AND (a.num, a.player_id) < (b.num, b.player_id)
    LEFT JOIN together t ON t.p1 = a.player_id AND t.p2 = b.player_id
  ), pct AS (
    SELECT w.*,
           CASE WHEN w.gf + w.ga > 0 THEN etl_pct(w.gf, w.gf + w.ga) END AS gf_t,
           CASE WHEN w.gf_apart + w.ga_apart > 0 THEN etl_pct(w.gf_apart, w.gf_apart + w.ga_apart) END AS gf_a,
           CASE WHEN w.cf + w.ca > 0 THEN etl_pct(w.cf, w.cf + w.ca) END AS cf_t,
           CASE WHEN w.cf_apart + w.ca_apart > 0 THEN etl_pct(w.cf_apart, w.cf_apart + w.ca_apart) END AS cf_a
    FROM w
  )
  SELECT g, p.p1, p.p2, p.venue, p.shifts, p.l1 - p.shifts, p.l2 - p.shifts, p.l1, p.l2,
         CASE p.venue WHEN 'home' THEN 'VN0001' ELSE 'VN0002' END, st.home_team_id, st.away_team_id,
         p.toi, p.toi_apart, p.gf_t, p.gf_a, p.gf_t - p.gf_a, p.cf_t, p.cf_a, p.cf_t - p.cf_a,
         -- no xG model, and a relative Fenwick of 0.0, as in all rows of the team's export
         0.0, 0.0, 0.0, p.cf_t - p.cf_a, 0.0,
         etl_key('WY', g, row_number() OVER (ORDER BY p.venue = 'away', p.num1, p.p1, p.num2, p.p2)), p.n1, p.n2
  FROM pct p CROSS JOIN etl_schedule_teams(g) st;
  GET DIAGNOSTICS n_wowy = ROW_COUNT;

  DROP TABLE etl_player_shifts;
  RETURN jsonb_build_object('fact_h2h', n_h2h, 'fact_wowy', n_wowy);
END $$;
