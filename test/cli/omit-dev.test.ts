/**
 * Runtime needs are runtime dependencies: a fresh clone, `npm ci --omit=dev` (no s3rver
 * dev copy, no vitest, no csv-parse), `npm start` (on the test server's PostgreSQL, to
 * keep it quick), then every command of the README's list, as written, from another
 * process. None may fail to load a module; each ends as the README says it does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/database';
import { syntheticExport } from '../tracker/synthetic-export';

const REPO = path.resolve(__dirname, '../..');
const READY = 'BenchSight Ops is ready';
let dir: string;
let t: TestDatabase;
let stack: ChildProcess | undefined;
let log = '';
const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' });

/** The README's commands for a running stack (the block after "With `npm start` running"). */
function readmeCommands(): string[] {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const block = /With `npm start` running, in another terminal:\n\n```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** Runs a README line in the clone: `npx benchsight` as the bin, `$(…)` as a shell does. */
async function sh(line: string): Promise<{ code: number; out: string; err: string }> {
  const command = line.replace(/npx benchsight/g, 'node bin/benchsight.js');
  return new Promise((resolve) => {
    const child = execFile('bash', ['-c', command], { cwd: dir, env: env(), timeout: 180_000, maxBuffer: 64 << 20 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
    // As from a script: nothing on standard input (psql reads it to the end, then quits).
    child.stdin?.end();
  });
}

beforeAll(async () => {
  t = await freshDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'bs-omit-dev-'));
  const run = promisify(execFile);
  await run('git', ['clone', '-q', REPO, dir]);
  await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env: env(), timeout: 600_000, maxBuffer: 64 << 20 });
  stack = spawn('npm', ['start'], { cwd: dir, env: { ...env(), DATABASE_URL: t.url }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  stack.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  stack.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  for (let i = 0; i < 600 && !log.includes(READY); i++) await new Promise((r) => setTimeout(r, 300));
  if (!log.includes(READY)) throw new Error(`npm start did not get ready:\n${log.slice(-3000)}`);
  // What the README's lines point at: an export folder (the same league as the stack's
  // first-run sample: 3 games, seed 1), a tracker export.
  await sh('npx benchsight generate --games 3 --seed 1 --out ./exports');
  writeFileSync(path.join(dir, 'benchsight_game_X_18969.json'), JSON.stringify(syntheticExport({ gameId: 18969 })));
}, 900_000);

afterAll(async () => {
  if (stack?.pid && stack.exitCode === null) {
    try {
      process.kill(-stack.pid, 'SIGINT');
    } catch {
      /* gone */
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  await t?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 300_000);

describe('npm ci --omit=dev', () => {
  it('installs no dev dependency', () => {
    expect(existsSync(path.join(dir, 'node_modules', 'vitest'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules', 'csv-parse'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules', 's3rver'))).toBe(true);
  });

  it('then every command of the README works', async () => {
    const lines = readmeCommands();
    expect(lines.length).toBeGreaterThan(10);
    /** What each line ends in (the README says so beside it): a command that deletes rows asks first, and without a terminal it is refused. */
    const expected: Record<string, number> = { 'npx benchsight load game 50001 replace': 2 };
    for (const line of lines) {
      // 100 games would take a while: the same command, smaller.
      const r = await sh(line.replace('--games 100', '--games 1'));
      const said = `${line}\n${r.out.slice(-1500)}\n${r.err.slice(-1500)}`;
      expect(r.err, said).not.toMatch(/Cannot find module|MODULE_NOT_FOUND|\n\s+at .*\(.*:\d+:\d+\)/);
      expect(r.code, said).toBe(expected[line] ?? 0);
    }
  }, 600_000);
});
