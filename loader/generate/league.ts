/**
 * The invented league: teams with rosters (2 goalies, 10 forwards, 4 defense), a few
 * free agents, and a weekly schedule. Everything is drawn from the seed.
 */
import { playerId, teamId } from './keys';
import { FIRST_NAMES, FREE_AGENT_TEAM, LAST_NAMES, TEAM_NAMES } from './names';
import { mixSeed, Random } from './random';

export type Position = 'Forward' | 'Defense' | 'Goalie';

export interface Player {
  n: number;
  id: string;
  first: string;
  last: string;
  full: string;
  position: Position;
  number: number;
  rating: number;
  team: Team;
}

export interface Team {
  n: number;
  id: string;
  name: string;
  longName: string;
  code: string;
  players: Player[];
}

export interface League {
  /** Teams that play, an even number. */
  teams: Team[];
  /** The free-agent pool, a team in dim_team that never plays. */
  freeAgents: Team;
  players: Player[];
}

export interface ScheduledGame {
  gameId: number;
  home: Team;
  away: Team;
  /** Days since 1970-01-01. */
  day: number;
  season: number;
  gameTime: string | null;
  playoffRound: string | null;
}

const ROSTER: readonly Position[] = ['Goalie', 'Goalie', ...Array<Position>(10).fill('Forward'), ...Array<Position>(4).fill('Defense')];
const GOALIE_NUMBERS = [1, 29, 30, 31, 33, 35, 39, 40];
const ROMAN = ['', ' II', ' III', ' IV', ' V', ' VI', ' VII', ' VIII'];
const FIRST_DAY = Date.UTC(2024, 8, 15) / 86_400_000; // Sunday 2024-09-15: weekly game nights from here
const GAME_TIMES = ['16:00:00', '17:15:00', '18:30:00', '19:45:00', '21:00:00'];

/** About 20 teams for up to 1,000 games, more for bigger runs (every team plays ~50 games). */
export function teamCountFor(games: number): number {
  const n = Math.max(20, Math.ceil(games / 50));
  return Math.min(n + (n % 2), 5_000); // 16 players a team must fit P1xxxxx
}

export function buildLeague(seed: number, games: number): League {
  const rng = new Random(mixSeed(seed, 0x1ea9e));
  const teams: Team[] = [];
  const players: Player[] = [];
  const count = teamCountFor(games);
  const addPlayer = (team: Team, position: Position, number: number) => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const p: Player = {
      n: players.length + 1,
      id: playerId(players.length + 1),
      first,
      last,
      full: `${first} ${last}`,
      position,
      number,
      rating: rng.int(2, 6),
      team,
    };
    players.push(p);
    team.players.push(p);
  };
  for (let i = 0; i < count; i++) {
    const [name, longName, code] = TEAM_NAMES[i % TEAM_NAMES.length]!;
    const round = Math.floor(i / TEAM_NAMES.length);
    const suffix = ROMAN[round] ?? ` ${round + 1}`;
    const team: Team = {
      n: i + 1,
      id: teamId(i + 1),
      name: name + suffix,
      longName: longName + suffix,
      code: round ? `${code}${round + 1}` : code,
      players: [],
    };
    const skaterNumbers = rng.sample(
      Array.from({ length: 97 }, (_, k) => k + 2).filter((k) => !GOALIE_NUMBERS.includes(k)),
      ROSTER.length,
    );
    const goalieNumbers = rng.sample(GOALIE_NUMBERS, 2);
    ROSTER.forEach((pos, k) => addPlayer(team, pos, pos === 'Goalie' ? goalieNumbers[k]! : skaterNumbers[k]!));
    teams.push(team);
  }
  const freeAgents: Team = { n: count + 1, id: teamId(count + 1), name: FREE_AGENT_TEAM, longName: FREE_AGENT_TEAM, code: 'FA', players: [] };
  const agentCount = Math.max(4, Math.round(count * 0.8));
  for (let k = 0; k < agentCount; k++) addPlayer(freeAgents, k % 7 === 0 ? 'Goalie' : k % 3 === 0 ? 'Defense' : 'Forward', rng.int(2, 98));
  return { teams, freeAgents, players };
}

/** One game night a week; every team plays once a week, against a new draw of opponents. */
export class Schedule {
  private week = -1;
  private order: Team[] = [];

  constructor(
    private readonly league: League,
    private readonly seed: number,
  ) {}

  /** Game `index` of the run (0-based), with id `gameId`. */
  game(index: number, gameId: number): ScheduledGame {
    const perWeek = this.league.teams.length / 2;
    const week = Math.floor(index / perWeek);
    const slot = index % perWeek;
    if (week !== this.week) {
      this.order = new Random(mixSeed(this.seed, 0x5c4ed, week)).sample(this.league.teams, this.league.teams.length);
      this.week = week;
    }
    const rng = new Random(mixSeed(this.seed, 0x6a3e, index));
    const day = FIRST_DAY + 7 * week;
    const date = new Date(day * 86_400_000);
    const month = date.getUTCMonth();
    const startYear = month >= 8 ? date.getUTCFullYear() : date.getUTCFullYear() - 1;
    const playoffs = month === 2 || month === 3;
    return {
      gameId,
      home: this.order[2 * slot]!,
      away: this.order[2 * slot + 1]!,
      day,
      season: startYear * 10_000 + startYear + 1,
      gameTime: rng.chance(0.15) ? rng.pick(GAME_TIMES) : null,
      playoffRound: playoffs ? rng.pick(['RoundRobin', 'SemiFinals', 'Championship']) : null,
    };
  }
}
