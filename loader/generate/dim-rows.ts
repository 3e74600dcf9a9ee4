/**
 * The dims: dim_player, dim_team and dim_schedule rows of the invented league.
 */
import type { League, ScheduledGame, Team } from './league';
import { FIRST_NAMES, IMAGE_CDN, PLAYING_HISTORY, SITE, TEAM_COLORS, LAST_NAMES, slug } from './names';
import { mixSeed, Random } from './random';
import { PERIOD_SECONDS, PERIODS, type SimGoal } from './game';
import { clockText, timestampOfDay, type Row } from './value-style';

const FEMALE = new Set(['Renée', 'Zoë', 'Anna', 'Beth', 'Carla', 'Dana', 'Erin', 'Jess', 'Kate', 'Lena', 'Maya', 'Nora', 'Tess']);

export function playerRows(league: League, seed: number): Row[] {
  const rng = new Random(mixSeed(seed, 0xd1a9));
  const seen = new Map<string, number>();
  return league.players.map((p, index) => {
    const base = slug(p.full);
    const dup = (seen.get(base) ?? 0) + 1;
    seen.set(base, dup);
    const urlName = dup > 1 ? `${base}-${dup}` : base;
    const [alias1, alias2] = [rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)];
    const year = rng.int(2017, 2025);
    const captain = p.team.players[2] === p ? 'C' : p.team.players[3] === p ? 'A' : null;
    return {
      index,
      player_first_name: p.first,
      player_last_name: p.last,
      player_full_name: p.full,
      player_id: p.id,
      player_primary_position: p.position,
      current_skill_rating: p.rating,
      birth_year: rng.chance(0.56) ? rng.int(1962, 2005) : null,
      player_gender: FEMALE.has(p.first) ? 'F' : 'M',
      highest_beer_league: rng.chance(0.5) ? rng.pick(PLAYING_HISTORY) : null,
      player_rating_ly: Math.max(2, Math.min(6, p.rating + rng.int(-1, 1))),
      player_leadership: captain ?? (rng.chance(0.02) ? 'S' : null),
      player_norad: 'Y',
      player_norad_current_team: p.team.name,
      player_norad_current_team_id: p.team.id,
      other_url: rng.chance(0.04) ? `${SITE}/prospects/${rng.int(100000, 999999)}/${urlName}` : null,
      player_url: rng.chance(0.95) ? `${SITE}/player/${urlName}/` : null,
      player_image: `${IMAGE_CDN}/uploads/${year}/0${rng.int(1, 9)}/${urlName}-${year}.jpg?${rng.chance(0.5) ? 'resize=300%2C300' : `w=${rng.pick([200, 275, 350, 450])}`}&ssl=1`,
      // The export's "random" (anonymised) name columns are shifted by one: the first
      // holds the full alias, the next two its first and last name.
      random_player_first_name: `${alias1} ${alias2}`,
      random_player_last_name: alias1,
      random_player_full_name: alias2,
    };
  });
}

export function teamRows(league: League, seed: number): Row[] {
  const rng = new Random(mixSeed(seed, 0x7ea3));
  return [...league.teams, league.freeAgents].map((t: Team, index) => {
    const [c1, c2, c3, c4] = rng.sample(TEAM_COLORS, 4);
    return {
      index,
      team_name: t.name,
      team_id: t.id,
      norad_team: 'Y',
      csah_team: 'N',
      league_id: 'N',
      league: 'NORAD',
      long_team_name: t.longName,
      team_cd: t.code,
      team_color1: c1,
      team_color2: c2,
      team_color3: rng.chance(0.9) ? c3 : null,
      team_color4: rng.chance(0.1) ? c4 : null,
      team_logo: `${IMAGE_CDN}/uploads/2023/07/${slug(t.name)}-logo.png?resize=128%2C${rng.pick([40, 115, 128])}&ssl=1`,
      team_url: `${SITE}/team/${slug(t.name)}/`,
    };
  });
}

export interface GameResult {
  goals: SimGoal[];
}

/** A dim_schedule row; `result` is null for a game that has not been played yet. */
export function scheduleRow(g: ScheduledGame, result: GameResult | null): Row {
  const perPeriod = (venue: 'Home' | 'Away', period: number) => (result ? result.goals.filter((x) => x.venue === venue && x.period === period).length : null);
  const home = result ? result.goals.filter((x) => x.venue === 'Home').length : 0;
  const away = result ? result.goals.filter((x) => x.venue === 'Away').length : 0;
  const played = result !== null;
  const row: Row = {
    game_id: g.gameId,
    season: g.season,
    season_id: `N${g.season}F`,
    game_url: `${SITE}/event/${g.gameId}/`,
    home_team_game_id: `${g.gameId}${g.home.id}`,
    away_team_game_id: `${g.gameId}${g.away.id}`,
    date: timestampOfDay(g.day),
    game_time: g.gameTime,
    home_team_name: g.home.name,
    away_team_name: g.away.name,
    home_team_id: g.home.id,
    away_team_id: g.away.id,
    head_to_head_id: `${g.home.id}_${g.away.id}`,
    game_type: g.playoffRound ? 'Playoffs' : 'Regular',
    playoff_round: g.playoffRound,
    last_period_type: 'Regulation',
    period_length: clockText(PERIOD_SECONDS),
    ot_period_length: clockText(0),
    shootout_rounds: played ? 0 : null,
    home_total_goals: home,
    away_total_goals: away,
    home_team_periodOT_goals: played ? 0 : null,
    away_team_periodOT_goals: played ? 0 : null,
    home_team_seeding: g.playoffRound ? 1 + (g.home.n % 8) : null,
    away_team_seeding: g.playoffRound ? 1 + (g.away.n % 8) : null,
    home_team_w: played && home > away ? 1 : 0,
    home_team_l: played && home < away ? 1 : 0,
    home_team_t: played && home === away ? 1 : 0,
    home_team_pts: !played ? 0 : home > away ? 2 : home === away ? 1 : 0,
    away_team_w: played && away > home ? 1 : 0,
    away_team_l: played && away < home ? 1 : 0,
    away_team_t: played && home === away ? 1 : 0,
    away_team_pts: !played ? 0 : away > home ? 2 : home === away ? 1 : 0,
  };
  for (let p = 1; p <= PERIODS; p++) {
    row[`home_team_period${p}_goals`] = perPeriod('Home', p);
    row[`away_team_period${p}_goals`] = perPeriod('Away', p);
  }
  return row;
}
