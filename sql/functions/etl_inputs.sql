-- The ETL's view of a tracked game: staging (tracker.sql) read as the fact tables number
-- and name it, plus the small helpers every ETL step uses. sql/README.md ("ETL, job queue
-- and data quality") documents every rule.

-- The tracker's period clock counts down: '18:00' → 1080 seconds, '00:0.01' → 0.01.
-- Anything else (empty, malformed) is NULL.
CREATE OR REPLACE FUNCTION etl_clock_seconds(t text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN btrim(t) ~ '^\d+:\d+(\.\d+)?$'
               THEN split_part(btrim(t), ':', 1)::numeric * 60 + split_part(btrim(t), ':', 2)::numeric END $$;

-- Rounding as the team's ETL rounds (pandas/numpy, in float64): the value computed in double
-- precision, scaled, rounded half to even, scaled back; so 939 s / 60 = 15.65 gives 15.6 and
-- 23 / 80 * 100 (28.749999999999996 in float64) gives 28.7, as its exports have them.
CREATE OR REPLACE FUNCTION etl_round(x double precision, d integer) RETURNS numeric
LANGUAGE sql IMMUTABLE AS
$$ SELECT (round(x * power(10::double precision, d)) / power(10::double precision, d))::numeric $$;

-- A percentage as the data dictionary writes it, ROUND(a / b * 100, 1), computed the team's
-- ETL's way (etl_round); NULL when b is 0.
CREATE OR REPLACE FUNCTION etl_pct(a numeric, b numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN b <> 0 THEN etl_round(a::double precision / b::double precision * 100, 1) END $$;

-- The warehouse's vocabulary for the tracker's event details (the team's dimension codes,
-- loader/generate/codes.ts): the tracker app now writes Possession_PuckRetrieval,
-- Zone_Entry_Failed, Stoppage_PeriodEnd and ZoneEntry-Carried where the warehouse (its
-- dim_event_detail / dim_event_detail_2, the team's exports) has PuckRetrieval,
-- Zone_Entryfailed, Stoppage_Period and ZoneEntry-Rush (the tracker's own synonym table maps
-- Rush to Carried), and a plain Faceoff is Faceoff_AfterStoppage. Any other detail is kept as
-- written.
CREATE OR REPLACE FUNCTION etl_warehouse_detail(detail text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE
     WHEN detail LIKE 'Possession\_%' THEN substr(detail, 12)
     WHEN detail = 'Zone_Entry_Failed' THEN 'Zone_Entryfailed'
     WHEN detail = 'Zone_Exit_Failed' THEN 'Zone_ExitFailed'
     WHEN detail = 'Zone_Keepin_Failed' THEN 'Zone_KeepinFailed'
     WHEN detail = 'Stoppage_PeriodEnd' THEN 'Stoppage_Period'
     -- a faceoff the tracker does not name (game or period start, after a goal or a
     -- penalty) is the one after a stoppage
     WHEN detail = 'Faceoff' THEN 'Faceoff_AfterStoppage'
     ELSE detail END $$;

-- event_detail_2 as the warehouse writes it: the tracker's first `_` as `-` (Goal_Wrist →
-- Goal-Wrist), and Carried zone entries and exits as Rush (see etl_warehouse_detail).
CREATE OR REPLACE FUNCTION etl_warehouse_detail_2(detail2 text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE regexp_replace(detail2, '_', '-')
     WHEN 'ZoneEntry-Carried' THEN 'ZoneEntry-Rush'
     WHEN 'ZoneExit-Carried' THEN 'ZoneExit-Rush'
     ELSE regexp_replace(detail2, '_', '-') END $$;

-- event_successful (s | u): what the tracker says (success true / false); where it says
-- nothing, what the event's detail itself says: a completed pass, a shot on net or in,
-- a goal, a takeaway succeeded; a missed, deflected or intercepted pass, a missed or blocked
-- shot, a giveaway, a failed entry, exit or keep-in did not (the tracker's success rules).
-- The tracker marks a pass, a shot or a zone entry / exit / keep-in successful only when it
-- was (its success is true or absent, never false): one it did not mark failed. Any other
-- play (a puck recovery, a defensive play) failed when the tracker marks its first player's
-- play unsuccessful (playSuccess u). Otherwise NULL.
DROP FUNCTION IF EXISTS etl_event_successful(text, text);
CREATE OR REPLACE FUNCTION etl_event_successful(success text, event_type text, detail text, play_success text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE
     WHEN success = 'true' THEN 's'
     WHEN success = 'false' THEN 'u'
     WHEN detail IN ('Pass_Completed', 'Shot_OnNetSaved', 'Shot_Goal', 'Shot_TippedOnNetSaved', 'Shot_DeflectedOnNetSaved',
                     'Goal_Scored', 'Turnover_Takeaway') THEN 's'
     WHEN detail IN ('Pass_Missed', 'Pass_Deflected', 'Pass_Intercepted', 'Shot_Missed', 'Shot_Blocked', 'Shot_BlockedSameTeam',
                     'Turnover_Giveaway') OR detail ~* '^Zone_(Entry|Exit|Keepin)_?Failed$' THEN 'u'
     WHEN event_type IN ('Pass', 'Shot', 'Zone_Entry_Exit') THEN 'u'
     WHEN play_success = 'u' THEN 'u'
   END $$;

-- The export's key format: prefix, game id, number zero-padded to 5 digits (never cut).
CREATE OR REPLACE FUNCTION etl_key(prefix text, game_id integer, n bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT prefix || game_id::text || CASE WHEN n < 100000 THEN lpad(n::text, 5, '0') ELSE n::text END $$;

-- The other side of a game: home ↔ away. Any other value (an event of no side, the
-- workbook's '0') has none, so it is neither side's and nobody's opponent.
CREATE OR REPLACE FUNCTION etl_other_side(venue text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE venue WHEN 'home' THEN 'away' WHEN 'away' THEN 'home' END $$;

-- A zone seen from the other team: offensive ↔ defensive, neutral stays.
CREATE OR REPLACE FUNCTION etl_flip_zone(z text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE z WHEN 'o' THEN 'd' WHEN 'd' THEN 'o' ELSE z END $$;

-- The game's teams: names as the tracker sent them; ids from dim_schedule, else from
-- dim_team by name, else NULL.
CREATE OR REPLACE FUNCTION etl_game_teams(g integer)
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
CREATE OR REPLACE FUNCTION etl_roster(g integer)
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
CREATE OR REPLACE FUNCTION etl_shifts(g integer)
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
-- refinements the real ETL makes and the shift each event happened in: the shift of
-- the period whose clock interval [end, start] contains the event's start time; on a shift
-- change, an instant event (e.g. a goal that stops play) belongs to the shift that ends with
-- it, an event that lasts (its end after its start on the clock) to the shift it goes on in.
CREATE OR REPLACE FUNCTION etl_events(g integer)
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
           ELSE etl_warehouse_detail(nullif(e.detail1, '')) END,
         e.t0, e.t1, e.linked_event_index + 1001, e.sequence_index, e.play_index, e.assist_to_goal_index, e.players,
         (SELECT CASE WHEN e.t1 < e.t0 THEN max(sh.shift_index) ELSE min(sh.shift_index) END
          FROM sh WHERE sh.period = e.period AND sh.st >= e.t0 AND e.t0 >= sh.en)
  FROM e
$$;

-- The players of each event (the export's players[]), resolved to player ids through the
-- rosters by (team, jersey number). Roles: event_player_N → event_team_player_N,
-- opp_player_N → opp_team_player_N. The tracker's assistToGoalIdx is kept as an assist tag
-- on the event's first player when the tracker did not tag it already.
CREATE OR REPLACE FUNCTION etl_event_players(g integer)
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
CREATE OR REPLACE FUNCTION etl_on_ice(g integer)
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
