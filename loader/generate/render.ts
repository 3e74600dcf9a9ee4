/**
 * Renders played games into CSV bytes, table by table: every fact table and the games'
 * dim_schedule rows. A renderer lives in one thread (the caller's, or a worker's) and
 * renders any range of games; a game's bytes depend only on the options and its place in
 * the run, so the export is the same whichever thread renders which game.
 */
import { tableNamed, WAREHOUSE } from '../warehouse';
import { EVENT_ONLY, eventColumns, eventPlayerRows, shiftPlayerRows, shiftRow, shiftsByPlayer } from './core-rows';
import { scheduleRow } from './dim-rows';
import { gameKey, type GameKeyTable } from './keys';
import { buildLeague, Schedule } from './league';
import { blankPlayer, duplicateEventRow, noQuirks, orphanEventPlayerRows, playerlessEventRow, unknownSkater, type InjectedQuirks } from './quirks';
import { mixSeed, Random } from './random';
import type { SimGame } from './game';
import { simulateGame } from './simulate';
import { goalieGameRows, h2hRows, playerGameRows, teamGameRows, wowyRows } from './stats-rows';
import { TableLines, type TableBytes } from './table-lines';
import { tallyGame } from './tally';

export interface RenderConfig {
  seed: number;
  /** Games in the whole run (the league's size depends on it). */
  games: number;
  firstGameId: number;
  dirty: boolean;
}

export interface RenderedGames {
  from: number;
  count: number;
  tables: TableBytes[];
  quirks: InjectedQuirks;
}

/** The tables a game writes to; the other dims are written once, by the caller. */
export const GAME_TABLES = WAREHOUSE.filter((t) => t.category !== 'dims' || t.name === 'dim_schedule').map((t) => t.name);

const STATS = [
  ['fact_player_game_stats', playerGameRows],
  ['fact_team_game_stats', teamGameRows],
  ['fact_goalie_game_stats', goalieGameRows],
  ['fact_h2h', h2hRows],
  ['fact_wowy', wowyRows],
] as const;

export class GameRenderer {
  private readonly schedule: Schedule;
  private readonly lines: Map<string, TableLines>;
  private readonly writeEvent: ReturnType<TableLines['sharing']>;

  constructor(private readonly config: RenderConfig) {
    this.schedule = new Schedule(buildLeague(config.seed, config.games), config.seed);
    this.lines = new Map(GAME_TABLES.map((name) => [name, new TableLines(tableNamed(name))]));
    this.writeEvent = this.table('fact_events').sharing(this.table('fact_events_player'));
  }

  /** Games `from` .. `from + count - 1` of the run (0-based). */
  render(from: number, count: number): RenderedGames {
    for (const l of this.lines.values()) l.take(); // nothing left over from a failed call
    const quirks = noQuirks();
    for (let i = from; i < from + count; i++) {
      const game = this.schedule.game(i, this.config.firstGameId + i);
      const sim = simulateGame(game, this.config.seed);
      const dirty = this.config.dirty ? { first: i === 0, last: i === this.config.games - 1 && i > 0, quirks } : null;
      this.writeGame(sim, dirty);
      this.table('dim_schedule').write(scheduleRow(game, sim));
    }
    return { from, count, tables: [...this.lines.values()].map((l) => l.take()), quirks };
  }

  private table(name: string): TableLines {
    return this.lines.get(name)!;
  }

  private writeGame(sim: SimGame, dirty: { first: boolean; last: boolean; quirks: InjectedQuirks } | null): void {
    const gameId = sim.game.gameId;
    const events = this.table('fact_events');
    const eventPlayers = this.table('fact_events_player');
    const nextEventPlayer = keyCounter('fact_events_player', gameId, 0);
    let eventPlayerRowsOfGame = 0;
    for (const e of sim.events) {
      const shared = eventColumns(sim, e);
      const base = eventPlayers.prepare(shared); // formatted once, for the event and its players
      this.writeEvent(EVENT_ONLY, base);
      if (e.players.length === 0) {
        if (dirty) eventPlayers.write(playerlessEventRow(nextEventPlayer, dirty.quirks), base);
        continue;
      }
      for (const row of eventPlayerRows(e, shared, nextEventPlayer)) {
        eventPlayers.write(row, base);
        eventPlayerRowsOfGame++;
      }
    }
    if (dirty?.first) {
      events.write(duplicateEventRow(sim, dirty.quirks));
      const count = Math.max(1, Math.round(eventPlayerRowsOfGame * 0.12));
      for (const row of orphanEventPlayerRows(sim, count, nextEventPlayer, dirty.quirks)) eventPlayers.write(row);
    }
    if (dirty?.last) for (const row of orphanEventPlayerRows(sim, 1, nextEventPlayer, dirty.quirks)) eventPlayers.write(row);

    for (const s of sim.shifts) this.table('fact_shifts').write(shiftRow(sim, s));
    const byPlayer = shiftsByPlayer(sim);
    const shiftPlayers = shiftPlayerRows(sim, byPlayer, keyCounter('fact_shifts_player', gameId, 1));
    if (dirty?.first) blankPlayer(shiftPlayers, unknownSkater(sim), dirty.quirks);
    for (const row of shiftPlayers) this.table('fact_shifts_player').write(row);

    const tally = tallyGame(sim, byPlayer);
    const rng = new Random(mixSeed(this.config.seed, 0x57a75, gameId));
    for (const [table, rows] of STATS) {
      for (const row of rows(sim, tally, tableNamed(table), rng)) this.table(table).write(row);
    }
  }
}

function keyCounter(table: GameKeyTable, gameId: number, first: number): () => string {
  let n = first;
  return () => gameKey(table, gameId, n++);
}
