/**
 * Key formats of the real export. Fact keys are `{prefix}{game_id}{n:05d}`: events
 * count from 1000 (`EV1896901000`), event players from 0, everything else from 1.
 * Players are `P1xxxxx`, teams `N1xxxx`.
 */

/** The key prefix of each game-scoped fact table. */
export const GAME_KEY_PREFIX = {
  fact_events: 'EV',
  fact_events_player: 'EP',
  fact_shifts: 'SH',
  fact_shifts_player: 'SP',
  fact_player_game_stats: 'PG',
  fact_team_game_stats: 'TG',
  fact_goalie_game_stats: 'GK',
  fact_h2h: 'HH',
  fact_wowy: 'WY',
} as const;

export type GameKeyTable = keyof typeof GAME_KEY_PREFIX;

/** Event indexes start here, as in the tracker (`EV{game}01000` is a game's first event). */
export const FIRST_EVENT_INDEX = 1000;

export const PLAYER_ID_PATTERN = /^P1\d{5}$/;
export const TEAM_ID_PATTERN = /^N1\d{4}$/;

export function gameKey(table: GameKeyTable, gameId: number, n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 99_999) throw new Error(`${table}: key number ${n} does not fit in 5 digits`);
  return GAME_KEY_PREFIX[table] + gameId + String(n).padStart(5, '0');
}

/** The key a game's rows must have: prefix, that game's id, five digits. */
export function gameKeyPattern(table: GameKeyTable, gameId: number): RegExp {
  return new RegExp(`^${GAME_KEY_PREFIX[table]}${gameId}\\d{5}$`);
}

export function playerId(n: number): string {
  if (n < 1 || n > 99_999) throw new Error(`player number ${n} does not fit P1xxxxx`);
  return `P${100_000 + n}`;
}

export function teamId(n: number): string {
  if (n < 1 || n > 9_999) throw new Error(`team number ${n} does not fit N1xxxx`);
  return `N${10_000 + n}`;
}
