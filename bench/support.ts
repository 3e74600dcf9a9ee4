process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
/** Shared pieces of the benchmark scripts: a scratch database, timing, generated data. */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import path from 'node:path';
import pg from 'pg';
import { generateExport } from '../loader/generate';
import type { Database } from '../loader/db/database';
import { openPostgres } from '../loader/db/postgres';
import { migrate } from '../loader/db/migrate';
import { folderSource, load } from '../loader/engine';
import { columnNameFor } from '../loader/warehouse';

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
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort();
}

/** Loads what fact_events_player's rows point to (the dims and fact_events) from `dir`. */
export async function loadParents(db: Database, dir: string): Promise<void> {
  const r = await load(db, {
    scope: { kind: 'tables', tables: ['dim_player', 'dim_team', 'dim_schedule', 'fact_events'] },
    operation: 'replace',
    source: folderSource(dir),
    initiatedBy: 'bench',
  });
  if (r.status !== 'succeeded') throw new Error(JSON.stringify(r.error));
}

/**
 * Runs psql scripts from a helper shell started once, and times each there: the
 * benchmark's own process never forks while it measures. (Forking a Node process makes
 * the kernel write-protect its whole heap; every page it writes afterwards faults once:
 * measured here, a load right after spawning even `true` took 50-80 ms longer.)
 * Each run gives psql's wall time (starting psql and connecting included) and the sum of
 * the times psql reports for the statements alone (`\timing`).
 */
export function psqlRunner(url: string): { run(script: string): Promise<{ ms: number; statementsMs: number }>; close(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-bench-psql-'));
  const loop = [
    'while IFS= read -r f; do',
    '  s=$(date +%s%N)',
    '  out=$(psql -X -q -v ON_ERROR_STOP=1 "$BS_URL" -f "$f" 2>&1); rc=$?',
    '  e=$(date +%s%N)',
    String.raw`  sum=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{s+=$1} END {printf "%.3f", s+0}')`,
    String.raw`  [ $rc -ne 0 ] && printf '%s\n' "$out" >&2`,
    '  echo "$rc $(( (e - s) / 1000 )) $sum"',
    'done',
  ].join('\n');
  const sh = spawn('bash', ['-c', loop], { env: { ...process.env, BS_URL: url }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: sh.stdout! });
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  // (a helper that dies fails the runs waiting for it, instead of leaving them hanging)
  sh.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the psql helper shell exited (${code})`));
  });
  let n = 0;
  return {
    async run(script) {
      const file = path.join(dir, `script-${n++}.sql`);
      writeFileSync(file, `\\timing on\n${script}\n`);
      if (sh.exitCode !== null) throw new Error(`the psql helper shell exited (${sh.exitCode})`);
      const line = await new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject });
        sh.stdin!.write(`${file}\n`);
      });
      const [rc, us, sum] = line.split(' ');
      if (rc !== '0') throw new Error(`psql failed (exit ${rc})`);
      return { ms: Number(us) / 1000, statementsMs: Number(sum) };
    },
    close() {
      sh.stdin!.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  ms: number;
  rssMb: number;
  code: number | null;
  out: string;
}

/** A whole process under /usr/bin/time: wall time as this process sees it, peak RSS from time. */
export function runProcess(cmd: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'BS_MAXRSS_KB=%M', cmd, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const kb = Number(/BS_MAXRSS_KB=(\d+)/.exec(err)?.[1] ?? Number.NaN);
      resolve({ ms, rssMb: kb / 1024, code, out: out + err.replace(/BS_MAXRSS_KB=\d+\n?/, '') });
    });
  });
}

export function report(title: string, rows: [string, string][]): void {
  process.stdout.write(`\n${title}\n`);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
}

/** A table of text columns named by a CSV file's header, for a raw COPY of it. */
export function textTableSql(file: string, name: string): string {
  // the first line only: the files are up to 400 MB
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const header = buf
    .toString('utf8', 0, n)
    .split('\n', 1)[0]!
    .replace(/^\uFEFF/, '')
    .replace(/\r$/, '');
  return `CREATE TABLE ${name} (${header
    .split(',')
    .map((h) => `${columnNameFor(h)} text`)
    .join(', ')});`;
}

export function textTablesSql(dir: string, schema: string): string {
  return csvFiles(dir)
    .map((f) => textTableSql(path.join(dir, f), `${schema}.${f.replace('.csv', '')}`))
    .join('\n');
}
