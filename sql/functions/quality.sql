-- Data quality: the rules, the measures they look at, and the findings (every measure
-- that breaks a rule). loader/quality/validate.ts runs them. A new rule is a row below
-- (and, when it looks at something not measured yet, a measure in quality_measures): this
-- file is the one place to change.
--
-- The rules: the ETL's data dictionary (dd_validation_thresholds.csv) plus "team goals
-- must equal the official score in dim_schedule". They are rows of quality_rules (the
-- table: sql/migrations/000005_etl.sql), which holds exactly the rules declared here:
-- migrate applies this file again whenever it changes. check_kind: range = value outside
-- [low, high]; above = value > high; below = value < low; zero = value is 0; equals =
-- value <> expected; less_than = value >= expected; at_most = value > expected. Player
-- rules apply to skaters (goalies have their own). message placeholders: {game}
-- {subject} {value} {expected} {low} {high}.
WITH declared (rule, stat_name, level, measure, check_kind, low, high, severity, message, description) AS (VALUES
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
   'game {game} has team stats but no official score in dim_schedule: its team goals cannot be checked', 'Team goals MUST match dim_schedule: the score must be there')
), kept AS (
  INSERT INTO quality_rules AS q (rule, stat_name, level, measure, check_kind, low, high, severity, message, description)
  SELECT d.rule, d.stat_name, d.level, d.measure, d.check_kind, d.low::numeric, d.high::numeric, d.severity, d.message, d.description
  FROM declared d
  ON CONFLICT (rule) DO UPDATE SET
    stat_name = EXCLUDED.stat_name, level = EXCLUDED.level, measure = EXCLUDED.measure, check_kind = EXCLUDED.check_kind,
    low = EXCLUDED.low, high = EXCLUDED.high, severity = EXCLUDED.severity, message = EXCLUDED.message,
    description = EXCLUDED.description
  WHERE (q.stat_name, q.level, q.measure, q.check_kind, q.low, q.high, q.severity, q.message, q.description)
        IS DISTINCT FROM (EXCLUDED.stat_name, EXCLUDED.level, EXCLUDED.measure, EXCLUDED.check_kind, EXCLUDED.low,
                          EXCLUDED.high, EXCLUDED.severity, EXCLUDED.message, EXCLUDED.description)
  RETURNING q.rule
)
DELETE FROM quality_rules q WHERE NOT EXISTS (SELECT 1 FROM declared d WHERE d.rule = q.rule);

-- Numbers in messages without trailing zeros: 87.50 → 87.5, 4.0 → 4.
CREATE OR REPLACE FUNCTION quality_num(v numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(trim_scale(v)::text, 'none') $$;

-- Every measure the rules look at, per game and subject. NULL p_game_ids = every game that
-- has facts. value NULL = not measurable here (no check); expected NULL = nothing to compare.
CREATE OR REPLACE FUNCTION quality_measures(p_game_ids integer[])
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
CREATE OR REPLACE FUNCTION quality_findings(p_game_ids integer[])
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
