/**
 * `generateExport`: writes a synthetic export in exactly the real export's format, one
 * `<table>.csv` per warehouse table, game by game, streaming every file.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { tableNamed, WAREHOUSE } from '../warehouse';
import { CsvFile } from './csv-file';
import { playerRows, scheduleRow, teamRows } from './dim-rows';
import { buildLeague, Schedule } from './league';
import { noQuirks, type InjectedQuirks } from './quirks';
import type { RenderConfig } from './render';
import { TableLines } from './table-lines';
import { defaultWorkers, renderInOrder, type GameRange } from './workers';

export const DEFAULT_SEED = 1;
/** Well above the real export's game ids (10xxx–19xxx), so the two never collide. */
export const DEFAULT_FIRST_GAME_ID = 50_001;
export const MAX_GAMES = 100_000;

export interface GenerateOptions {
  games: number;
  outDir: string;
  seed?: number;
  firstGameId?: number;
  dirty?: boolean;
  /** Worker threads rendering games; 0 renders in this thread. Default: one per CPU (up to 8) for 16 games or more. */
  workers?: number;
  onProgress?: (p: GenerateProgress) => void;
}

export interface GenerateProgress {
  games: number;
  gamesDone: number;
  rows: number;
  bytes: number;
}

export interface GeneratedFile {
  table: string;
  path: string;
  rows: number;
  bytes: number;
}

export interface GenerateResult {
  /** In the warehouse's load order. */
  files: GeneratedFile[];
  /** The played games; dim_schedule also lists a few later, unplayed ones. */
  gameIds: number[];
  /** What `dirty` injected (all zero when clean). */
  quirks: InjectedQuirks;
}

export class GenerateError extends Error {}

function checkOptions(o: GenerateOptions): Required<Omit<GenerateOptions, 'onProgress'>> {
  if (!Number.isInteger(o.games) || o.games < 1 || o.games > MAX_GAMES)
    throw new GenerateError(`games must be a whole number from 1 to ${MAX_GAMES}, not ${o.games}`);
  const seed = o.seed ?? DEFAULT_SEED;
  const firstGameId = o.firstGameId ?? DEFAULT_FIRST_GAME_ID;
  const workers = o.workers ?? defaultWorkers(o.games);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new GenerateError(`workers must be a whole number from 0 to 64, not ${workers}`);
  if (!Number.isInteger(seed)) throw new GenerateError(`seed must be a whole number, not ${seed}`);
  if (!Number.isInteger(firstGameId) || firstGameId < 1 || firstGameId + o.games + 100 > 2 ** 31) {
    throw new GenerateError(`first game id must be a positive whole number that leaves room for ${o.games} games, not ${firstGameId}`);
  }
  if (!o.outDir) throw new GenerateError('an output folder is required');
  return { games: o.games, outDir: o.outDir, seed, firstGameId, dirty: o.dirty ?? false, workers };
}

/** A few games after the played ones are scheduled but not played yet, as in a live season. */
export function unplayedGamesFor(games: number): number {
  return Math.min(50, Math.max(1, Math.round(games * 0.05)));
}

export async function generateExport(options: GenerateOptions): Promise<GenerateResult> {
  const o = checkOptions(options);
  await mkdir(o.outDir, { recursive: true }).catch((err: Error) => {
    throw new GenerateError(`cannot create the output folder ${o.outDir}: ${err.message}`);
  });
  const lines = (name: string) => new TableLines(tableNamed(name));
  const files = new Map(WAREHOUSE.map((t) => [t.name, new CsvFile(t, path.join(o.outDir, `${t.name}.csv`))]));
  const file = (name: string) => files.get(name)!;
  const quirks = noQuirks();
  const gameIds: number[] = [];
  try {
    // The dims other than the schedule, once; then the games, rendered in order (maybe by workers).
    const league = buildLeague(o.seed, o.games);
    const dims = { dim_player: playerRows(league, o.seed), dim_team: teamRows(league, o.seed) };
    for (const [name, rows] of Object.entries(dims)) {
      const l = lines(name);
      for (const row of rows) l.write(row);
      file(name).append(l.take());
    }
    const config: RenderConfig = { seed: o.seed, games: o.games, firstGameId: o.firstGameId, dirty: o.dirty };
    for await (const rendered of renderInOrder(config, gameRanges(o.games, o.workers), o.workers)) {
      for (const part of rendered.tables) file(part.table).append(part);
      addQuirks(quirks, rendered.quirks);
      for (let i = rendered.from; i < rendered.from + rendered.count; i++) gameIds.push(o.firstGameId + i);
      for (const f of files.values()) await f.settle();
      options.onProgress?.({ games: o.games, gamesDone: gameIds.length, rows: sum(files, (f) => f.rows), bytes: sum(files, (f) => f.bytes) });
    }
    const schedule = new Schedule(league, o.seed);
    const unplayed = lines('dim_schedule');
    for (let j = 0; j < unplayedGamesFor(o.games); j++) unplayed.write(scheduleRow(schedule.game(o.games + j, o.firstGameId + o.games + j), null));
    file('dim_schedule').append(unplayed.take());
    for (const f of files.values()) await f.close();
  } catch (err) {
    for (const f of files.values()) f.abort();
    throw err;
  }
  return {
    files: [...files.values()].map((f) => ({ table: f.table, path: f.path, rows: f.rows, bytes: f.bytes })),
    gameIds,
    quirks,
  };
}

/** A few games per range: enough to keep workers busy, small enough to bound memory (~2 MB a game). */
function gameRanges(games: number, workers: number): GameRange[] {
  const size = workers === 0 ? 1 : Math.max(1, Math.min(8, Math.ceil(games / (workers * 4))));
  const out: GameRange[] = [];
  for (let from = 0; from < games; from += size) out.push({ from, count: Math.min(size, games - from) });
  return out;
}

function addQuirks(into: InjectedQuirks, q: InjectedQuirks): void {
  into.duplicateEventKeys.push(...q.duplicateEventKeys);
  into.orphanEventPlayerRows += q.orphanEventPlayerRows;
  into.eventPlayerRowsWithoutPlayer += q.eventPlayerRowsWithoutPlayer;
  into.shiftPlayerRowsWithoutPlayer += q.shiftPlayerRowsWithoutPlayer;
}

function sum(files: Map<string, CsvFile>, f: (x: CsvFile) => number): number {
  let n = 0;
  for (const x of files.values()) n += f(x);
  return n;
}
