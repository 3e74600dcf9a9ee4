-- Data quality: the measures the rules of quality_rules look at, and the findings (every
-- measure that breaks a rule). The rules are rows of quality_rules
-- (sql/migrations/000005_etl.sql); loader/quality/validate.ts reads the findings.

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
