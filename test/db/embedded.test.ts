/**
 * The embedded PostgreSQL of a data folder: one server per folder, found by every
 * process; its starter stops it; a server whose starter was killed is taken over;
 * folders it cannot use are refused with what to do.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, runningServer, runningUrl, useEmbedded } from '../../loader/db/embedded';
import { openPostgres } from '../../loader/db/postgres';

const dirs: string[] = [];
function folder(mode = 0o755): string {
  const d = mkdtempSync(path.join(tmpdir(), 'bs-embedded-test-'));
  chmodSync(d, mode);
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) {
    const s = runningServer(d);
    if (s) process.kill(s.pid, 'SIGQUIT');
    rmSync(d, { recursive: true, force: true });
  }
});

const waitGone = async (pid: number) => {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
};

describe('the embedded PostgreSQL of a folder', () => {
  it('is one server: a second user connects to it, and only its starter stops it', async () => {
    const dataDir = folder();
    const first = await useEmbedded({ dataDir, owner: 'tests', ephemeral: true });
    expect(first.started).toBe(true);
    expect(first.version).toMatch(/^17\./);
    expect(statSync(path.join(dataDir, 'postgres.password')).mode & 0o777).toBe(0o600);
    const second = await useEmbedded({ dataDir, owner: 'command', ephemeral: true });
    expect(second.started).toBe(false);
    expect(second.pid).toBe(first.pid);
    expect(runningUrl(dataDir)).toBe(first.url);
    const db = openPostgres({ url: second.url });
    expect((await db.query<{ v: string }>("SELECT current_setting('listen_addresses') AS v")).rows).toEqual([{ v: '127.0.0.1' }]);
    await db.close();
    await second.release();
    expect(alive(first.pid)).toBe(true);
    await first.release();
    await waitGone(first.pid);
    expect(alive(first.pid)).toBe(false);
    expect(runningServer(dataDir)).toBeNull();
  });

  it('keeps its data across restarts', async () => {
    const dataDir = folder();
    const a = await useEmbedded({ dataDir, owner: 'tests', ephemeral: true });
    const db = openPostgres({ url: a.url });
    await db.query('CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)');
    await db.close();
    await a.release();
    const b = await useEmbedded({ dataDir, owner: 'tests', ephemeral: true });
    const again = openPostgres({ url: b.url });
    expect((await again.query('SELECT x FROM kept')).rows).toEqual([{ x: 42 }]);
    await again.close();
    await b.release();
  });

  it('left running by a process that was killed, is taken over by the next one, which stops it', async () => {
    const dataDir = folder();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `require(${JSON.stringify(path.resolve(__dirname, '../../loader/db/embedded.ts'))}).useEmbedded({ dataDir: ${JSON.stringify(dataDir)}, owner: 'stack', ephemeral: true }).then(() => console.log('up'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('up') && resolve()));
    const orphan = runningServer(dataDir)!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(alive(orphan.pid)).toBe(true); // the server outlived its starter
    const lines: string[] = [];
    const next = await useEmbedded({ dataDir, owner: 'stack', ephemeral: true, log: (l) => lines.push(l) });
    expect(next.pid).toBe(orphan.pid);
    expect(next.started).toBe(true);
    expect(lines.join('\n')).toMatch(/left by a process that is gone\): using it/);
    await next.release();
    await waitGone(orphan.pid);
    expect(alive(orphan.pid)).toBe(false);
  }, 60_000);

  it('refuses a folder of another PostgreSQL major version, saying what to do', async () => {
    const dataDir = folder();
    mkdirSync(path.join(dataDir, 'postgres'), { mode: 0o700 });
    writeFileSync(path.join(dataDir, 'postgres', 'PG_VERSION'), '15\n');
    writeFileSync(path.join(dataDir, 'postgres.password'), 'x\n', { mode: 0o600 });
    await expect(useEmbedded({ dataDir, owner: 'command' })).rejects.toThrow(
      /holds a PostgreSQL 15 database; the embedded server is PostgreSQL 17: move that folder away/,
    );
  });

  it.skipIf(process.getuid?.() !== 0)("as root, names the directory the server's OS user cannot enter", async () => {
    const closed = folder(0o700);
    const dataDir = path.join(closed, 'project', '.benchsight');
    mkdirSync(dataDir, { recursive: true });
    await expect(useEmbedded({ dataDir, owner: 'command' })).rejects.toThrow(new RegExp(`cannot reach .*: ${closed} is closed to other users`));
  });
});

describe('commands with no stack running', () => {
  const cli = (dataDir: string, ...args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [path.resolve(__dirname, '../../bin/benchsight.js'), ...args], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCHSIGHT_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      c.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      c.once('exit', (code) => resolve({ code, out }));
    });

  it('two at once on one folder share one server: both loads are committed, none lost, and no server is left', async () => {
    const dataDir = folder();
    const files = path.join(dataDir, 'files');
    mkdirSync(files);
    const { csvFor, miniLeague } = await import('../support/fixtures');
    const m = miniLeague();
    writeFileSync(path.join(files, 'dim_team.csv'), csvFor('dim_team', m.teams));
    writeFileSync(path.join(files, 'dim_player.csv'), csvFor('dim_player', m.players));
    const [a, b] = await Promise.all([
      cli(dataDir, 'load', 'table', 'dim_team', 'upsert', '--from', files),
      cli(dataDir, 'load', 'table', 'dim_player', 'upsert', '--from', files),
    ]);
    expect([a.code, b.code], `${a.out}\n${b.out}`).toEqual([0, 0]);
    for (let i = 0; i < 100 && runningServer(dataDir); i++) await new Promise((r) => setTimeout(r, 100));
    expect(runningServer(dataDir)).toBeNull();
    const h = await cli(dataDir, 'history');
    expect(h.out).toMatch(/succeeded\s+table dim_player\s+upsert/);
    expect(h.out).toMatch(/succeeded\s+table dim_team\s+upsert/);
    const counts = await cli(dataDir, 'counts');
    expect(counts.out).toMatch(new RegExp(`dim_team\\s+${m.teams.length}\\b`));
    expect(counts.out).toMatch(new RegExp(`dim_player\\s+${m.players.length}\\b`));
  }, 120_000);
});
