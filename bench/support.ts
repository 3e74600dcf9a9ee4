process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
/** Shared pieces of the benchmark scripts: a scratch database, timing, generated data. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { generateExport } from '../loader/generate';
import type { Database } from '../loader/db/database';
import { openPostgres } from '../loader/db/postgres';
import { migrate } from '../loader/db/migrate';
import { folderSource, load } from '../loader/engine';

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('benchmarks need DATABASE_URL (a server where they may create a scratch database)');
  return url;
}

export function urlFor(db: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${db}`;
  return u.toString();
}

export async function scratchDatabase(name: string): Promise<{ url: string; db: Database; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = urlFor(name);
  const db = openPostgres({ url });
  await migrate(db);
  return {
    url,
    db,
    async drop() {
      await db.close();
      const a = new pg.Client({ connectionString: serverUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Generated games, cached by size and seed under .benchsight/bench-data. */
export async function generatedGames(games: number, seed = 7): Promise<string> {
  const dir = path.resolve('.benchsight', 'bench-data', `games-${games}-seed-${seed}`);
  if (existsSync(path.join(dir, 'fact_wowy.csv'))) return dir;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`generating ${games} games into ${dir} ...\n`);
  await generateExport({ games, outDir: dir, seed });
  return dir;
}

export function fileMb(file: string): number {
  return statSync(file).size / 1e6;
}

export function csvFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
}

/** Loads what fact_events_player's rows point to (the dims and fact_events) from `dir`. */
export async function loadParents(db: Database, dir: string): Promise<void> {
  const r = await load(db, { scope: { kind: 'tables', tables: ['dim_player', 'dim_team', 'dim_schedule', 'fact_events'] }, operation: 'replace', source: folderSource(dir), initiatedBy: 'bench' });
  if (r.status !== 'succeeded') throw new Error(JSON.stringify(r.error));
}

/** Runs psql with a script; returns wall time in ms. */
export function psqlTimed(url: string, script: string): number {
  return psqlRun(url, script).ms;
}

/**
 * Runs psql with a script under `\timing`: the wall time (starting psql and its
 * connection included) and the sum of the times psql reports for the statements alone.
 */
export function psqlRun(url: string, script: string): { ms: number; statementsMs: number } {
  const t0 = process.hrtime.bigint();
  const out = execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url], { input: `\\timing on\n${script}`, stdio: ['pipe', 'pipe', 'inherit'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const statementsMs = [...out.matchAll(/^Time: ([0-9.]+) ms/gm)].reduce((n, m) => n + Number(m[1]), 0);
  return { ms, statementsMs };
}

export function report(title: string, rows: [string, string][]): void {
  process.stdout.write(`\n${title}\n`);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
}
