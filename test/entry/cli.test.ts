/**
 * `npx benchsight ...`: main(argv, io, env) driven in-process against a fresh database,
 * with stdout and stderr captured; and once through the real bin in a child process.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type Io } from '../../loader/entry/cli';
import { folderSource, load } from '../../loader/engine';
import { TABLE_NAMES, WAREHOUSE } from '../../loader/warehouse';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeagueFiles } from '../support/fixtures';
import { Capture } from '../support/capture';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

/** The mini league plus a row or two for every other table: a folder `load all` can read. */
function leagueFiles(): Record<string, string> {
  const teams = { home_team_id: 'N10001', away_team_id: 'N10002' };
  return {
    ...miniLeagueFiles(),
    'fact_shifts.csv': csvFor('fact_shifts', [
      { shift_key: 'SH100100001', game_id: 1001, shift_index: '1.0', Period: '1.0', ...teams },
      { shift_key: 'SH100200001', game_id: 1002, shift_index: '1.0', Period: '1.0', ...teams },
    ]),
    'fact_shifts_player.csv': csvFor('fact_shifts_player', [
      { shift_player_key: 'SP100100001', shift_key: 'SH100100001', game_id: 1001, player_id: 'P100001' },
      { shift_player_key: 'SP100200001', shift_key: 'SH100200001', game_id: 1002, player_id: 'P100002' },
    ]),
    'fact_player_game_stats.csv': csvFor('fact_player_game_stats', [{ player_game_key: 'PG1001P100001', game_id: 1001, player_id: 'P100001', goals: '1.0' }]),
    'fact_team_game_stats.csv': csvFor('fact_team_game_stats', [{ team_game_key: 'TG1001N10001', game_id: 1001, team_id: 'N10001', goals: '2.0', ...teams }]),
    // Two goalies a game, as the data-quality rules expect of a tracked game.
    'fact_goalie_game_stats.csv': csvFor('fact_goalie_game_stats', [
      { goalie_game_key: 'GG1001P100003', game_id: 1001, player_id: 'P100003' },
      { goalie_game_key: 'GG1001P100004', game_id: 1001, player_id: 'P100004' },
      { goalie_game_key: 'GG1002P100003', game_id: 1002, player_id: 'P100003' },
      { goalie_game_key: 'GG1002P100004', game_id: 1002, player_id: 'P100004' },
    ]),
    'fact_h2h.csv': csvFor('fact_h2h', [{ h2h_key: 'H2H1001P100001P100002', game_id: 1001, player_1_id: 'P100001', player_2_id: 'P100002', ...teams }]),
    'fact_wowy.csv': csvFor('fact_wowy', [{ wowy_key: 'WW1001P100001P100002', game_id: 1001, player_1_id: 'P100001', player_2_id: 'P100002', ...teams }]),
  };
}

const EXPECTED_COUNTS: Record<string, number> = {
  dim_player: 4,
  dim_team: 2,
  dim_schedule: 3,
  fact_shifts: 2,
  fact_events: 6,
  fact_events_player: 6,
  fact_shifts_player: 2,
  fact_player_game_stats: 1,
  fact_team_game_stats: 1,
  fact_goalie_game_stats: 4,
  fact_h2h: 1,
  fact_wowy: 1,
};
const FACTS = TABLE_NAMES.filter((n) => n.startsWith('fact_'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...argv: string[]): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const io: Io = { stdout, stderr, stdin };
  const code = await main(argv, io, { DATABASE_URL: t.url, USER: 'cli-test' });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLE_NAMES) {
    out[table] = Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  }
  return out;
}

/** Rows of one game (`= id`) or of every other game (`<> id`) in each table that has a game column. */
async function gameCounts(op: '=' | '<>', gameId: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of WAREHOUSE.filter((x) => x.gameColumn)) {
    out[table.name] = Number(
      (await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table.name} WHERE ${table.gameColumn} ${op} $1`, [gameId])).rows[0]!.n,
    );
  }
  return out;
}

async function snapshot(): Promise<string[]> {
  const out: string[] = [];
  for (const table of TABLE_NAMES) {
    out.push(
      (await t.db.query<{ h: string | null }>(`SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${table} x`)).rows[0]!.h ?? `${table} empty`,
    );
  }
  return out;
}

let league: string;
/** Starts every test from the loaded league (loaded through the engine, not the CLI). */
async function loadLeague(): Promise<void> {
  await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
  const r = await load(t.db, { initiatedBy: 'test', scope: { kind: 'all' }, operation: 'replace', source: folderSource(league) });
  expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
}

beforeAll(() => {
  league = folderWith(leagueFiles());
});

describe('loads', () => {
  beforeEach(async () => {
    await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
  });

  it('load all replace --from <dir> --yes loads every table and prints a table of what it did', async () => {
    const r = await run('load', 'all', 'replace', '--from', league, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^OK: all \(replace\) in [\d.]+ s, history #\d+/);
    expect(r.stdout).toMatch(/^table\s+operation\s+in file\s+inserted\s+updated\s+deleted\s+unchanged\s+rejected\s+reasons$/m);
    for (const [table, n] of Object.entries(EXPECTED_COUNTS)) {
      expect(r.stdout).toMatch(new RegExp(`^${table}\\s+replace\\s+${n}\\s+${n}\\s+0\\s+0\\s+0\\s+0\\s*$`, 'm'));
    }
    expect(await counts()).toEqual(EXPECTED_COUNTS);
  });

  it('--json prints the result as JSON with per-table counts', async () => {
    await loadLeague();
    const r = await run('load', 'all', 'replace', '--from', league, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {
      status: string;
      tables: { table: string; rowsInFile: number; inserted: number; deleted: number; rejected: number }[];
    };
    expect(result.status).toBe('succeeded');
    expect(Object.fromEntries(result.tables.map((x) => [x.table, x.rowsInFile]))).toEqual(EXPECTED_COUNTS);
    expect(Object.fromEntries(result.tables.map((x) => [x.table, x.inserted]))).toEqual(EXPECTED_COUNTS);
    expect(Object.fromEntries(result.tables.map((x) => [x.table, x.deleted]))).toEqual(EXPECTED_COUNTS);
    expect(result.tables.every((x) => x.rejected === 0)).toBe(true);
  });

  it('a failing load exits 1 and says which file, line, column and value', async () => {
    await loadLeague();
    const before = await snapshot();
    const m = leagueFiles();
    const bad = m['dim_player.csv']!.replace('1990.0', '19x0');
    const dir = folderWith({ 'dim_player.csv': bad });
    const r = await run('load', 'table', 'dim_player', 'replace', '--from', dir, '--yes');
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/^FAILED: table dim_player \(replace\)/m);
    expect(out).toContain(`${path.join(dir, 'dim_player.csv')}, line 3, column birth_year`);
    expect(out).toContain('19x0');
    expect(out).toMatch(/Nothing was changed/);
    expect(await snapshot()).toEqual(before);

    const json = await run('load', 'table', 'dim_player', 'replace', '--from', dir, '--json', '--yes');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', error: { line: 3, column: 'birth_year', value: '19x0', table: 'dim_player' } });
  });

  it('a load without --from says where to give the files', async () => {
    const r = await run('load', 'table', 'dim_team');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/--from/);
  });

  it('--dry-run changes nothing and says so', async () => {
    await loadLeague();
    const before = await snapshot();
    const changed = folderWith({
      ...leagueFiles(),
      'fact_events.csv': csvFor('fact_events', [{ event_key: 'EV100100001', game_id: 1001, event_type: 'Goal' }]),
    });
    const r = await run('load', 'all', 'replace', '--from', changed, '--dry-run');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^DRY RUN \(nothing changed\): all \(replace\)/);
    expect(r.stdout).toMatch(/^fact_events\s+replace\s+1\s+1\s+0\s+6\s/m);

    const del = await run('delete', 'game', '1001', '--dry-run', '--yes');
    expect(del.code, del.stderr + del.stdout).toBe(0);
    expect(del.stdout).toMatch(/^DRY RUN \(nothing changed\)/);
    expect(await snapshot()).toEqual(before);
  });
});

describe('delete game', () => {
  beforeEach(loadLeague);

  it('without --yes and with no terminal to ask on, exits 2, mentions --yes, deletes nothing', async () => {
    const before = await snapshot();
    const r = await run('delete', 'game', '1001');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/delete of game 1001 destroys data: add --yes to confirm/);
    expect(r.stdout).toBe('');
    expect(await snapshot()).toEqual(before);
  });

  it("with --yes deletes that game's rows from every fact table, and nothing else", async () => {
    const otherGames = await gameCounts('<>', 1001);
    const dims = await snapshot();
    const r = await run('delete', 'game', '1001', '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^OK: game 1001 \(delete\)/);
    expect(r.stdout).toMatch(/^fact_events\s+replace\s+0\s+0\s+0\s+3\s/m);
    const left = await gameCounts('=', 1001);
    for (const table of FACTS) expect(left[table], table).toBe(0);
    expect(left.dim_schedule, 'the game stays in the schedule').toBe(1);
    expect(await gameCounts('<>', 1001)).toEqual(otherGames);
    const after = await snapshot();
    for (const table of ['dim_player', 'dim_team', 'dim_schedule']) {
      expect(after[TABLE_NAMES.indexOf(table)], table).toBe(dims[TABLE_NAMES.indexOf(table)]);
    }
    expect((await counts()).fact_events).toBe(3);
  });
});

describe('history and counts', () => {
  beforeEach(async () => {
    await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
  });

  it('counts prints every table with its rows', async () => {
    expect((await run('load', 'all', 'replace', '--from', league, '--yes')).code).toBe(0);
    expect((await run('delete', 'game', '1002', '--yes')).code).toBe(0);
    const r = await run('counts');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^table\s+rows$/m);
    const expected = { ...EXPECTED_COUNTS, fact_shifts: 1, fact_events: 3, fact_events_player: 3, fact_shifts_player: 1, fact_goalie_game_stats: 2 };
    for (const [table, n] of Object.entries(expected)) expect(r.stdout).toMatch(new RegExp(`^${table}\\s+${n}$`, 'm'));
    expect(await counts()).toEqual(expected);
  });

  it('history prints the loads, newest first, with what they did', async () => {
    expect((await run('load', 'all', 'replace', '--from', league, '--yes')).code).toBe(0);
    expect(
      (await run('load', 'table', 'dim_player', 'replace', '--from', folderWith({ 'dim_player.csv': 'player_id,birth_year\nP1,abc\n' }), '--yes')).code,
    ).toBe(1);
    expect((await run('delete', 'game', '1001', '--yes')).code).toBe(0);

    const r = await run('history', 'limit', '3');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s*id\s+started\s+status\s+what\s+op\s+rows\s+s\s+by$/);
    expect(lines[2]).toMatch(/^\s*\d+\s+\d\d-\d\d \d\d:\d\d\s+succeeded\s+game 1001\s+delete\s+-14\s+[\d.]+\s+cli:cli-test$/);
    expect(lines[3]).toMatch(/^\s*\d+\s+\S+ \S+\s+failed\s+table dim_player\s+replace\s+[\d.]+\s+cli:cli-test$/);
    // The error under its entry, whole (the output is not a terminal: nothing is cut).
    expect(r.stdout.split(/\n(?=\s*\d+ )/)[2]).toMatch(/↳ .*line 2, column birth_year/s);
    expect(lines.at(-1)).toMatch(/^\s*\d+\s+\S+ \S+\s+succeeded\s+all\s+replace\s+\+33\s+[\d.]+\s+cli:cli-test$/);

    const one = await run('history', 'fact_events');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/succeeded\s+fact_events\s+replace\s+\+6\s/);
    expect(one.stdout).toMatch(/succeeded\s+fact_events\s+delete\s+-3\s/);
  });
});

describe('the rest of the command line', () => {
  it('a grammar error exits 2 and suggests the command meant', async () => {
    const r = await run('lod', 'table', 'fact_events');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "lod"; did you mean "load"\?/);
    expect(r.stdout).toBe('');
  });

  it('migrate on a migrated database has nothing to do', async () => {
    const r = await run('migrate');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/already at version \d+; nothing to do/);
  });

  it('help lists the commands and the local flags', async () => {
    const r = await run('help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('load table <table>');
    expect(r.stdout).toContain('delete game <id>');
    expect(r.stdout).toContain('--yes');
  });

  it('an invalid DATABASE_URL is a configuration error, exit 2', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['counts'], { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) }, { DATABASE_URL: 'mysql://nope' });
    expect(code).toBe(2);
    expect(stderr.text).toMatch(/DATABASE_URL must be a postgres:\/\//);
  });

  it('the real bin runs: node bin/benchsight.js counts', async () => {
    const root = path.resolve(__dirname, '../..');
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'bin/benchsight.js'), 'counts'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: t.url },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^table\s+rows$/m);
    for (const table of TABLE_NAMES) expect(stdout).toMatch(new RegExp(`^${table}\\s+\\d+$`, 'm'));
  }, 90_000);
});
