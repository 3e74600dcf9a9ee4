/**
 * As a newcomer would: a fresh clone in a temporary folder, `npm ci`, then `npm start`
 * with an empty environment (no database, bucket or Slack). It must say it is ready,
 * take dropped files, answer commands from another process and the bot, and leave no
 * process behind when stopped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
const READY = 'BenchSight Ops is ready';
let dir: string;
let child: ChildProcess | undefined;
let log = '';
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

function cli(...args: string[]): string {
  return execFileSync(process.execPath, ['bin/benchsight.js', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function until<T>(what: string, fn: () => T | undefined, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the stack said:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function processesIn(folder: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(folder) && !l.includes('ps -eo'));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bs-newcomer-'));
  execFileSync('git', ['clone', '-q', REPO, dir]);
  execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env, stdio: 'ignore', timeout: 600_000 });
  child = spawn('npm', ['start'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  await until('the ready line', () => (log.includes(READY) ? true : undefined), 180_000);
}, 900_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm start from a fresh clone, with no configuration', () => {
  it('runs the embedded database, the local bucket, the worker and the bot on 127.0.0.1', () => {
    expect(log).toMatch(/using the embedded PostgreSQL \(PGlite\)/);
    expect(log).toMatch(/drop bucket: s3:\/\/benchsight-drop at http:\/\/127\.0\.0\.1:\d+ \(local/);
    expect(log).toMatch(/slack bot: http:\/\/127\.0\.0\.1:\d+\/slack\/events \(signing secret [0-9a-f]{32}, generated/);
    expect(log).toMatch(/worker: polling/);
  });

  it('loads the first-run sample, and answers `counts` and `history` from another process', async () => {
    const counts = await until('the sample to load', () => {
      const c = cli('counts');
      return /fact_events\s+[1-9]/.test(c) ? c : undefined;
    });
    expect(counts).toMatch(/dim_player\s+\d+/);
    expect(cli('history')).toMatch(/succeeded\s+all tables\s+replace/);
  });

  it('loads files dropped into the local bucket', async () => {
    const gen = path.join(dir, 'more');
    cli('generate', '--games', '2', '--out', gen, '--seed', '9', '--first-game', '70001');
    cli('drop', path.join(gen, 'dim_schedule.csv'), path.join(gen, 'fact_events.csv'), '--batch', 'more', '--op', 'upsert');
    const h = await until('the dropped batch to load', () => {
      const x = cli('history', 'fact_events');
      return /succeeded/.test(x) && x.split('\n').length > 3 ? x : undefined;
    });
    expect(h).toMatch(/fact_events/);
    const r = cli('load', 'game', '70001', 'replace', '--json', '--from', gen);
    const result = JSON.parse(r) as { status: string; tables: { table: string; inserted: number }[] };
    expect(result.status).toBe('succeeded');
    expect(result.tables.find((t) => t.table === 'fact_events')!.inserted).toBeGreaterThan(0);
  });

  it('answers a signed slash command through its bot', () => {
    const reply = cli('slack', '/benchsight history limit 3');
    expect(reply).toMatch(/succeeded/);
    expect(cli('slack', '/benchsight counts')).toMatch(/fact_events/);
  });

  it('stops on Ctrl-C and leaves no process behind', async () => {
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    process.kill(-child!.pid!, 'SIGINT');
    await exited;
    await until('every process to end', () => (processesIn(dir).length === 0 ? true : undefined), 20_000);
    expect(processesIn(dir)).toEqual([]);
    expect(log).toMatch(/stopped/);
  });
});
