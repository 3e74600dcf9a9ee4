/**
 * `benchsight ...` as a person runs it, against a real database, on a generated export
 * (two games in the real format): each outcome class and its exit code, the guards (no
 * row for the game, a replace that would empty a table), reading the rejects back (text,
 * --json, --csv), --json on every command, errors in words on stderr, who the history
 * names, and .csv.gz exports.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../loader/entry/cli';
import { generateExport } from '../../loader/generate';
import { TABLE_NAMES } from '../../loader/warehouse';
import { Capture } from '../support/capture';
import { csvFor } from '../support/fixtures';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
let exportDir: string;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  exportDir = mkdtempSync(path.join(tmpdir(), 'bs-cli-export-'));
  await generateExport({ games: 2, outDir: exportDir, seed: 17 });
});
afterAll(async () => t?.drop());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(
    argv,
    { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) },
    opts.env ?? { DATABASE_URL: t.url, USER: 'cli-tester' },
    { signal: opts.signal },
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}
const cli = (...argv: string[]) => run(argv);

async function snapshot(): Promise<string[]> {
  const out: string[] = [];
  for (const table of TABLE_NAMES) {
    out.push(
      (await t.db.query<{ h: string | null }>(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM ${table} x`))
        .rows[0]!.h!,
    );
  }
  return out;
}

const count = async (sql: string) => Number((await t.db.query<{ n: string }>(sql)).rows[0]!.n);

/** A folder with the export's files, some of them changed. */
function exportWith(changes: Record<string, (csv: string) => string> = {}, only?: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-cli-files-'));
  for (const f of readdirSync(exportDir)) {
    const table = f.replace(/\.csv$/, '');
    if (only && !only.includes(table)) continue;
    const csv = readFileSync(path.join(exportDir, f), 'utf8');
    writeFileSync(path.join(dir, f), changes[table] ? changes[table]!(csv) : csv);
  }
  return dir;
}

/** Keeps the header and the lines for which `keep(line, index)` holds. */
const lines = (keep: (line: string, i: number) => boolean) => (csv: string) => {
  const [header, ...rest] = csv.split('\n').filter(Boolean);
  return `${[header, ...rest.filter(keep)].join('\n')}\n`;
};

beforeEach(async () => {
  await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
  const r = await cli('load', 'all', 'replace', '--from', exportDir, '--yes');
  expect(r.code, r.stderr + r.stdout).toBe(0);
});

describe('outcome classes, as exit codes', () => {
  it('succeeded: 0, OK; the same files again: 0, NOTHING TO DO', async () => {
    const again = await cli('load', 'all', 'upsert', '--from', exportDir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^NOTHING TO DO: all \(upsert\)/);
    expect(again.stdout).toContain('every row of the files was already there: nothing changed');
  });

  it('partial: 3, when a file loses more rows than allowed; the rejects are a command away', async () => {
    // A third of the event-player rows point to an event that does not exist.
    const dir = exportWith(
      { fact_events_player: (csv) => csv.replace(/,EV(\d{10}),/g, (m, _k: string, off: number) => (off % 3 === 0 ? ',EV9999900001,' : m)) },
      ['fact_events_player'],
    );
    const r = await cli('load', 'table', 'fact_events_player', 'upsert', '--from', dir);
    expect(r.code, r.stderr + r.stdout).toBe(3);
    const id = Number(/history #(\d+)/.exec(r.stdout)![1]);
    expect(r.stdout).toMatch(/^PARTIAL: table fact_events_player \(upsert\)/);
    expect(r.stdout).toContain(`rejected rows, with their line and reason: \`rejects ${id}\``);
    expect(r.stdout).toMatch(/warning: fact_events_player: \d+ of \d+ rows rejected, more than the 20% allowed \(see them: `rejects \d+`/);
    // Within an allowance given: succeeded.
    const allowed = await cli('load', 'table', 'fact_events_player', 'upsert', '--from', dir, '--max-rejects', '60%');
    expect(allowed.code, allowed.stdout).toBe(0);
  });

  it('partial: 3, when the data-quality rules find an ERROR in the games loaded (a goalie missing)', async () => {
    const dir = exportWith({ fact_goalie_game_stats: lines((_, i) => i !== 0) }, ['fact_goalie_game_stats']);
    const r = await cli('load', 'table', 'fact_goalie_game_stats', 'replace', '--from', dir, '--yes');
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toMatch(/^PARTIAL: /);
    expect(r.stdout).toMatch(/ERROR \[goalies_per_game\] game 5000\d has 1 goalies/);
  });

  it('failed: 1, nothing changed; refused (no --yes, no terminal): 2; cancelled: 130', async () => {
    const before = await snapshot();
    const bad = exportWith({ fact_events: (csv) => csv.replace(/\n(EV\d+,)(\d+),/, '\n$1x,') }, ['fact_events']);
    const failed = await cli('load', 'table', 'fact_events', 'upsert', '--from', bad);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^FAILED: .*\n.*fact_events\.csv, line 2, column game_id: 'x' is not a whole number/);
    const refused = await cli('delete', 'game', '50001');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/add --yes to confirm/);
    const ac = new AbortController();
    ac.abort();
    const cancelled = await run(['load', 'all', 'upsert', '--from', exportDir], { signal: ac.signal });
    expect(cancelled.code).toBe(130);
    expect(cancelled.stdout).toMatch(/^CANCELLED: /);
    expect(await snapshot()).toEqual(before);
  });
});

describe('guards', () => {
  it('a game no file has: refused, exit 1, nothing changed', async () => {
    const before = await snapshot();
    const r = await cli('load', 'game', '99999', 'replace', '--from', exportDir, '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no file has rows for game 99999: the 9 files read hold only rows of other games/);
    expect(await snapshot()).toEqual(before);
  });

  it('a replace that would empty most of a table: refused (also as a dry run) unless --allow-shrink', async () => {
    const before = await snapshot();
    const cut = exportWith({ fact_events: lines((_, i) => i < 20) }, ['fact_events']);
    const events = await count('SELECT count(*) AS n FROM fact_events');
    const r = await cli('load', 'table', 'fact_events', 'replace', '--from', cut, '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`refused: this replace would leave fact_events with 20 of its ${events.toLocaleString('en-US')} rows`);
    expect(r.stdout).toMatch(/--allow-shrink/);
    const dry = await cli('load', 'table', 'fact_events', 'replace', '--from', cut, '--dry-run');
    expect(dry.code).toBe(1);
    expect(await snapshot()).toEqual(before);

    const allowed = await cli('load', 'table', 'fact_events', 'replace', '--from', cut, '--yes', '--allow-shrink');
    expect(allowed.code, allowed.stdout).not.toBe(1);
    expect(await count('SELECT count(*) AS n FROM fact_events')).toBe(20);
  });

  it("a game's replace by a file that lacks most of that game's rows: refused", async () => {
    const game = await count('SELECT count(*) AS n FROM fact_shifts WHERE game_id = 50001');
    const cut = exportWith({ fact_shifts: lines((l) => !l.includes(',50001,') || l.includes('SH5000100001')) });
    const r = await cli('load', 'game', '50001', 'replace', '--from', cut, '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`would leave fact_shifts \\(game 50001\\) with \\d of its ${game} rows`));
  });
});

describe('rejects <history id>', () => {
  let id: number;
  let rejected: number;
  beforeEach(async () => {
    const dir = exportWith({ fact_events_player: (csv) => csv.replace(/,EV(\d{10}),/g, (m, _k, off: number) => (off % 2 === 0 ? ',EV9999900001,' : m)) }, [
      'fact_events_player',
    ]);
    const r = await cli('load', 'table', 'fact_events_player', 'upsert', '--from', dir);
    id = Number(/history #(\d+)/.exec(r.stdout)![1]);
    rejected = await count(`SELECT count(*) AS n FROM load_rejects WHERE request_id = (SELECT request_id FROM load_history WHERE id = ${id})`);
    expect(rejected).toBeGreaterThan(20);
  });

  it('prints the counts, then each row: line, reason, the row as read', async () => {
    const r = await cli('rejects', String(id));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^#${id} table fact_events_player \\(partial, .*, by cli:cli-tester\\): ${rejected.toLocaleString('en-US')} rejected rows`),
    );
    expect(r.stdout).toMatch(new RegExp(`^fact_events_player\\s+orphan\\s+${rejected}$`, 'm'));
    expect(r.stdout).toMatch(
      /^\s*\d+\s+fact_events_player\s+orphan: event_key EV9999900001 is not in fact_events\.event_key\n {2}↳ event_player_key=EP\d+ event_key=EV9999900001 game_id=5000\d/m,
    );
    expect(r.stdout).toContain(`the first 20 of ${rejected.toLocaleString('en-US')}; all of them: benchsight rejects ${id} --csv`);
  });

  it("--csv: every rejected row, its line and reason, then its columns under the export's headers", async () => {
    const r = await cli('rejects', String(id), '--csv');
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(rejected);
    // The export's own header, in its order, after line, table, reason and detail.
    const header = readFileSync(path.join(exportDir, 'fact_events_player.csv'), 'utf8').split('\n')[0]!.split(',');
    expect(Object.keys(rows[0]!)).toEqual(['line', 'table', 'reason', 'detail', ...header]);
    const db = await t.db.query<{ line: string }>(
      `SELECT line FROM load_rejects WHERE request_id = (SELECT request_id FROM load_history WHERE id = $1) ORDER BY line`,
      [id],
    );
    expect(rows.map((x) => x.line).sort((a, b) => Number(a) - Number(b))).toEqual(db.rows.map((x) => x.line));
    // The line named is the file's line of that row.
    const source = readFileSync(path.join(exportDir, 'fact_events_player.csv'), 'utf8').split('\n');
    const first = rows[0]!;
    expect(source[Number(first.line) - 1]).toContain(first.event_player_key);
    expect(first.event_key).toBe('EV9999900001');
  });

  it('--json: the report; a table history id, a missing id', async () => {
    const r = await cli('rejects', String(id), 'limit', '5', '--json');
    const j = JSON.parse(r.stdout) as { kind: string; report: { total: number; rows: { line: number; reason: string; row: Record<string, unknown> }[] } };
    expect(j.kind).toBe('rejects');
    expect(j.report.total).toBe(rejected);
    expect(j.report.rows).toHaveLength(5);
    expect(j.report.rows[0]).toMatchObject({ reason: 'orphan', row: { event_key: 'EV9999900001' } });

    const tableRow = await count(`SELECT id AS n FROM load_history WHERE parent_id = ${id}`);
    const one = await cli('rejects', String(tableRow));
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`${rejected.toLocaleString('en-US')} rejected rows`));

    const missing = await cli('rejects', '987654');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no history entry #987654');
  });

  it('after the retention: says the rows are no longer kept', async () => {
    await t.db.query('DELETE FROM load_rejects');
    const r = await cli('rejects', String(id));
    expect(r.stdout).toMatch(/rejected rows are no longer kept \(rejected rows are kept 30 days: bs_settings\.rejects_retention_days\)/);
  });
});

describe('--json on every command', () => {
  it.each([
    [['counts'], (j: any) => expect(j.rows).toHaveLength(12)],
    [['history', 'limit', '2'], (j: any) => expect(j.rows[0]).toMatchObject({ status: 'succeeded', initiated_by: 'cli:cli-tester' })],
    [['health'], (j: any) => expect(j.health.database.reachable).toBe(true)],
    [['validate', 'game', '50001'], (j: any) => expect(j.kind).toBe('text')],
    [['etl', 'status'], (j: any) => expect(j.kind).toBe('text')],
    [['migrate'], (j: any) => expect(j).toMatchObject({ ok: true, applied: [] })],
    [['sql', 'select count(*)::int AS n from fact_goalie_game_stats'], (j: any) => expect(j).toEqual([{ n: 4 }])],
    [['delete', 'game', '50001', '--dry-run'], (j: any) => expect(j).toMatchObject({ status: 'succeeded', dryRun: true })],
    [
      ['load', 'game', '50001', 'upsert', '--from', '/nowhere/at/all'],
      (j: any) => expect(j).toEqual({ ok: false, error: expect.stringContaining('folder not found') }),
    ],
  ])('%j', async (argv, check) => {
    const r = await cli(...(argv as string[]), '--json');
    check(JSON.parse(r.stdout));
  });

  it('a load with --json sends its progress as JSON lines on stderr (not a terminal)', async () => {
    const r = await cli('load', 'all', 'upsert', '--from', exportDir, '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded' });
    const events = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; phase: string; percent: number });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.event === 'progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ phase: 'done', percent: 100 });
  });
});

describe('errors in words, on stderr', () => {
  it('--from a missing folder: folder not found, exit 1', async () => {
    const r = await cli('load', 'all', 'upsert', '--from', '/nowhere/at/all');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('benchsight: folder not found: /nowhere/at/all\n');
    expect(r.stdout).toBe('');
  });

  it('a load with nowhere to load from says so on stderr', async () => {
    const r = await cli('load', 'table', 'dim_team', 'upsert');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nowhere to load from: give a folder \(--from <dir>\)/);
    expect(r.stdout).toBe('');
  });

  it('ingest of a missing file: file not found', async () => {
    const r = await cli('ingest', '/nowhere/benchsight_game_1.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('benchsight: file not found: /nowhere/benchsight_game_1.json; nothing was staged\n');
  });
});

describe('who the history names', () => {
  it('the OS user: USER, else the account name', async () => {
    const env: NodeJS.ProcessEnv = { DATABASE_URL: t.url, PATH: process.env.PATH };
    const r = await run(['load', 'table', 'dim_team', 'upsert', '--from', exportDir], { env });
    expect(r.code, r.stderr).toBe(0);
    const me = execFileSync('id', ['-un']).toString().trim();
    const by = (await t.db.query<{ initiated_by: string }>("SELECT initiated_by FROM load_history WHERE kind = 'request' ORDER BY id DESC LIMIT 1")).rows[0]!;
    expect(by.initiated_by).toBe(`cli:${me}`);
  });
});

describe('--encoding', () => {
  it('a latin1 export loads with --encoding latin1, its names intact; without it, it is refused in words', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-cli-latin1-'));
    const csv = csvFor('dim_team', [{ index: 0, team_name: 'Zoë Ångström HC', team_id: 'N19999', league: 'NORAD' }]);
    writeFileSync(path.join(dir, 'dim_team.csv'), Buffer.from(csv, 'latin1'));
    const plain = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/UTF-8/);
    const r = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir, '--encoding', 'latin1');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const name = await t.db.query<{ team_name: string }>("SELECT team_name FROM dim_team WHERE team_id = 'N19999'");
    expect(name.rows).toEqual([{ team_name: 'Zoë Ångström HC' }]);
    const unknown = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir, '--encoding', 'klingon');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown encoding "klingon"');
  });
});

describe('.csv.gz exports', () => {
  it('load from a folder of .csv.gz files: the same rows as the plain files', async () => {
    const before = await snapshot();
    const gz = mkdtempSync(path.join(tmpdir(), 'bs-cli-gz-'));
    for (const f of readdirSync(exportDir)) writeFileSync(path.join(gz, `${f}.gz`), gzipSync(readFileSync(path.join(exportDir, f))));
    await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
    const r = await cli('load', 'all', 'replace', '--from', gz, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^fact_events_player\s+replace\s+\d+\s+\d+\s+0\s+0\s+0\s+0\s*$/m);
    expect(await snapshot()).toEqual(before);
  });

  it('a .csv.gz that is not gzip is refused in words; so are both forms of one table', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-cli-gz-'));
    copyFileSync(path.join(exportDir, 'dim_team.csv'), path.join(dir, 'dim_team.csv.gz'));
    const r = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/dim_team\.csv\.gz: not a readable gzip file \(incorrect header check\)/);
    copyFileSync(path.join(exportDir, 'dim_team.csv'), path.join(dir, 'dim_team.csv'));
    const both = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir);
    expect(both.code).toBe(1);
    expect(both.stderr + both.stdout).toMatch(/both dim_team\.csv and dim_team\.csv\.gz are in/);
  });
});

describe('--delimiter: exports separated by another character', () => {
  /** The export rewritten with `sep` between fields (quoted where a field holds it, a quote or a line break). */
  function rewritten(sep: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-cli-sep-'));
    for (const f of readdirSync(exportDir)) {
      const rows = parse(readFileSync(path.join(exportDir, f)), { bom: true, relax_column_count: true }) as string[][];
      const field = (v: string) => (v.includes(sep) || v.includes('"') || /[\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
      writeFileSync(path.join(dir, f), rows.map((r) => r.map(field).join(sep)).join('\r\n') + '\r\n');
    }
    return dir;
  }

  it('a semicolon- or tab-separated export loads the same rows as the comma-separated one', async () => {
    const before = await snapshot();
    for (const [sep, flag] of [
      [';', ';'],
      ['\t', 'tab'],
    ] as const) {
      const dir = rewritten(sep);
      await t.db.query(`TRUNCATE ${TABLE_NAMES.join(', ')}`);
      const r = await cli('load', 'all', 'replace', '--from', dir, '--delimiter', flag, '--yes');
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(await snapshot()).toEqual(before);
    }
  });

  it('a comma inside a value stays in the value; a bad value is named by its own line and column', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-cli-sep-'));
    writeFileSync(path.join(dir, 'dim_team.csv'), 'index;team_name;team_id;league\n0;Ace, The;N90001;NORAD\n1;"Blades; ""B""";N90002;NORAD\n');
    const ok = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir, '--delimiter', ';');
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    const rows = await t.db.query("SELECT team_id, team_name FROM dim_team WHERE team_id LIKE 'N9000%' ORDER BY 1");
    expect(rows.rows).toEqual([
      { team_id: 'N90001', team_name: 'Ace, The' },
      { team_id: 'N90002', team_name: 'Blades; "B"' },
    ]);
    writeFileSync(path.join(dir, 'dim_player.csv'), 'player_id;player_full_name;birth_year\nP900001;Al, Jr;1980\nP900002;Bo;nineteen\n');
    const bad = await cli('load', 'table', 'dim_player', 'upsert', '--from', dir, '--delimiter', ';');
    expect(bad.code).toBe(1);
    expect(bad.stderr + bad.stdout).toMatch(/dim_player\.csv, line 3, column birth_year: 'nineteen'/);
  });

  it('refuses a delimiter a CSV cannot use, and --delimiter without --from', async () => {
    const dir = rewritten(';');
    const quote = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir, '--delimiter', '"');
    expect(quote.code).not.toBe(0);
    expect(quote.stderr + quote.stdout).toMatch(/the delimiter "\\"" is not one a CSV can use/);
    const bucket = await cli('load', 'table', 'dim_team', 'upsert', '--delimiter', ';');
    expect(bucket.code).not.toBe(0);
    expect(bucket.stderr).toMatch(/--delimiter is for the files of --from <dir>/);
  });
});

describe("Excel's sep= line", () => {
  it('a semicolon file with "sep=;" is refused naming --delimiter, and loads with it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-cli-sep-'));
    writeFileSync(path.join(dir, 'dim_team.csv'), 'sep=;\nindex;team_name;team_id;league\n0;Ace;N90011;NORAD\n');
    const refused = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toMatch(/separated by ";"[\s\S]*--delimiter ";"/);
    const ok = await cli('load', 'table', 'dim_team', 'upsert', '--from', dir, '--delimiter', ';');
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect((await t.db.query("SELECT team_name FROM dim_team WHERE team_id = 'N90011'")).rows).toEqual([{ team_name: 'Ace' }]);
  });
});
