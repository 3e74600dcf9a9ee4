import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  floatWrittenIntegers,
  GAME_KEY_PREFIX,
  gameKeyPattern,
  generateExport,
  PLAYER_ID_PATTERN,
  styleOf,
  TEAM_ID_PATTERN,
  unplayedGamesFor,
  type GameKeyTable,
  type GenerateResult,
} from '../loader/generate';
import { PassThrough } from 'node:stream';
import { main } from '../loader/entry/cli';
import { Capture } from './support/capture';
import { rowFormatter } from '../loader/generate/row-format';
import { floatText, quoteIfNeeded } from '../loader/generate/value-style';
import { columns, defineTable, RELATIONS, tableNamed, WAREHOUSE, type ColumnType, type TableDecl } from '../loader/warehouse';
import { hasRealData, REAL_CSV } from './support/real-data';

const scratch = mkdtempSync(path.join(tmpdir(), 'benchsight-generate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Csv {
  header: string[];
  rows: string[][];
  text: string;
}

function readCsv(file: string): Csv {
  const text = readFileSync(file, 'utf8');
  const [header, ...rows] = parse(text, { relax_quotes: false }) as string[][];
  return { header: header!, rows, text };
}

/** The values of one column, by header. */
function col(csv: Csv, header: string): string[] {
  const i = csv.header.indexOf(header);
  if (i < 0) throw new Error(`no column ${header}`);
  return csv.rows.map((r) => r[i]!);
}

function readAll(dir: string): Map<string, Csv> {
  return new Map(WAREHOUSE.map((t) => [t.name, readCsv(path.join(dir, `${t.name}.csv`))]));
}

/**
 * Whether a cell is a valid value of the column type, after the loader's normalization
 * (sql/migrations/000003_loading.sql: bs_int, bs_numeric, bs_timestamp, ...): integers
 * may carry a `.0` fraction, dates and timestamps are ISO, empty is NULL.
 */
function parsesAs(type: ColumnType, v: string): boolean {
  if (v === '') return true;
  switch (type) {
    case 'integer':
      return /^-?\d+(\.0+)?$/.test(v) && Math.abs(Number(v)) <= 2 ** 31 - 1;
    case 'bigint':
      return /^-?\d+(\.0+)?$/.test(v) && Number.isSafeInteger(Number(v));
    case 'numeric':
      return /^-?\d+(\.\d+)?$/.test(v);
    case 'boolean':
      return v === 'True' || v === 'False';
    case 'date':
      return /^\d{4}-\d{2}-\d{2}( 00:00:00)?$/.test(v) && !Number.isNaN(Date.parse(v.slice(0, 10)));
    case 'timestamp':
      return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v) && !Number.isNaN(Date.parse(v.replace(' ', 'T')));
    case 'time':
      return /^\d{2}:\d{2}:\d{2}$/.test(v);
    default:
      return true;
  }
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const digests = (dir: string) => Object.fromEntries(WAREHOUSE.map((t) => [t.name, sha(path.join(dir, `${t.name}.csv`))]));

function relationViolations(tables: Map<string, Csv>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of RELATIONS) {
    const child = tables.get(r.table)!;
    const parent = tables.get(r.parent)!;
    const childHeader = tableNamed(r.table).columns.find((c) => c.name === r.column)!.header;
    const parentHeader = tableNamed(r.parent).columns.find((c) => c.name === r.parentColumn)!.header;
    const keys = new Set(col(parent, parentHeader));
    const missing = col(child, childHeader).filter((v) => v !== '' && !keys.has(v));
    if (missing.length) out.set(`${r.table}.${childHeader} → ${r.parent}`, missing);
  }
  return out;
}

describe('generateExport, clean', () => {
  const dir = path.join(scratch, 'clean');
  const games = 4;
  let result: GenerateResult;
  let tables: Map<string, Csv>;
  const progress: number[] = [];

  beforeAll(async () => {
    result = await generateExport({ games, outDir: dir, seed: 7, firstGameId: 70001, onProgress: (p) => progress.push(p.gamesDone) });
    tables = readAll(dir);
  });

  it('writes the 12 tables with the headers of the declaration, in order, and reports them truthfully', () => {
    expect(result.files.map((f) => f.table)).toEqual(WAREHOUSE.map((t) => t.name));
    for (const f of result.files) {
      const csv = tables.get(f.table)!;
      expect(csv.header, f.table).toEqual(tableNamed(f.table).columns.map((c) => c.header));
      expect(f.path).toBe(path.join(dir, `${f.table}.csv`));
      expect(f.rows, f.table).toBe(csv.rows.length);
      expect(f.bytes, f.table).toBe(statSync(f.path).size);
      expect(csv.text.includes('\r'), `${f.table} has \\r`).toBe(false);
      expect(csv.text.endsWith('\n'), f.table).toBe(true);
    }
    expect(result.gameIds).toEqual([70001, 70002, 70003, 70004]);
    expect(progress).toEqual([1, 2, 3, 4]);
  });

  it('writes every value so that it parses as its column type', () => {
    for (const t of WAREHOUSE) {
      const csv = tables.get(t.name)!;
      t.columns.forEach((c, i) => {
        const bad = csv.rows.map((r) => r[i]!).filter((v) => !parsesAs(c.type, v));
        expect(bad.slice(0, 3), `${t.name}.${c.header} (${c.type})`).toEqual([]);
        if (c.notNull) expect(csv.rows.filter((r) => r[i] === '').length, `${t.name}.${c.header} is not null`).toBe(0);
      });
    }
  });

  it('writes integers pandas-style exactly in the columns the value-style rule names, and numerics always with a point', () => {
    let floatColumnsSeen = 0;
    for (const t of WAREHOUSE) {
      const csv = tables.get(t.name)!;
      const floats = floatWrittenIntegers(t);
      t.columns.forEach((c, i) => {
        const values = csv.rows.map((r) => r[i]!).filter((v) => v !== '');
        if (c.type === 'integer' || c.type === 'bigint') {
          const pattern = floats.has(c.header) ? /^-?\d+\.0$/ : /^-?\d+$/;
          expect(values.filter((v) => !pattern.test(v)).slice(0, 3), `${t.name}.${c.header}`).toEqual([]);
          if (floats.has(c.header) && values.length) floatColumnsSeen++;
        }
        if (c.type === 'numeric') expect(values.filter((v) => !v.includes('.')).slice(0, 3), `${t.name}.${c.header}`).toEqual([]);
      });
    }
    expect(floatColumnsSeen).toBeGreaterThan(100);
    expect(col(tables.get('fact_player_game_stats')!, 'toi_seconds').every((v) => /^\d+\.0$/.test(v))).toBe(true);
    expect(col(tables.get('fact_player_game_stats')!, 'goals').every((v) => /^\d+$/.test(v))).toBe(true);
  });

  it('keeps every key unique and in the export key format', () => {
    for (const t of WAREHOUSE) {
      const csv = tables.get(t.name)!;
      const keys = csv.rows.map((r) => t.key.map((k) => r[t.columns.findIndex((c) => c.name === k)]).join('|'));
      expect(new Set(keys).size, `${t.name} keys`).toBe(keys.length);
    }
    for (const [table, prefix] of Object.entries(GAME_KEY_PREFIX) as [GameKeyTable, string][]) {
      const t = tableNamed(table);
      const csv = tables.get(table)!;
      const keyHeader = t.columns.find((c) => c.name === t.key[0])!.header;
      const keys = col(csv, keyHeader);
      const gameIds = col(csv, 'game_id');
      const wrong = keys.filter((k, i) => !gameKeyPattern(table, Number(gameIds[i])).test(k));
      expect(wrong.slice(0, 3), `${table}.${keyHeader} is ${prefix}{game_id}{n:05d}`).toEqual([]);
    }
    // Event and shift keys are built from their own index, as the ETL builds them.
    const events = tables.get('fact_events')!;
    col(events, 'event_key').forEach((k, i) => {
      expect(k).toBe(`EV${col(events, 'game_id')[i]}${String(parseInt(col(events, 'event_index')[i]!, 10)).padStart(5, '0')}`);
    });
    const shifts = tables.get('fact_shifts')!;
    col(shifts, 'shift_key').forEach((k, i) => expect(k).toBe(`SH${col(shifts, 'game_id')[i]}${col(shifts, 'shift_index')[i]!.padStart(5, '0')}`));
    expect(col(tables.get('dim_player')!, 'player_id').every((id) => PLAYER_ID_PATTERN.test(id))).toBe(true);
    expect(col(tables.get('dim_team')!, 'team_id').every((id) => TEAM_ID_PATTERN.test(id))).toBe(true);
  });

  it('keeps every relation of the declaration, and no row without its player', () => {
    expect(Object.fromEntries(relationViolations(tables))).toEqual({});
    expect(col(tables.get('fact_events_player')!, 'player_id').filter((v) => v === '')).toEqual([]);
    expect(col(tables.get('fact_shifts_player')!, 'player_id').filter((v) => v === '')).toEqual([]);
    expect(result.quirks).toEqual({ duplicateEventKeys: [], orphanEventPlayerRows: 0, eventPlayerRowsWithoutPlayer: 0, shiftPlayerRowsWithoutPlayer: 0 });
  });

  it('schedules every game, with the score the Goal events, team stats and goalies agree on', () => {
    const schedule = tables.get('dim_schedule')!;
    expect(schedule.rows.length).toBe(games + unplayedGamesFor(games));
    const events = tables.get('fact_events')!;
    const teams = tables.get('fact_team_game_stats')!;
    const goalies = tables.get('fact_goalie_game_stats')!;
    let goals = 0;
    for (const id of result.gameIds.map(String)) {
      const s = schedule.rows.find((r) => r[0] === id)!;
      const count = (venue: string) =>
        events.rows.filter((r, i) => r[1] === id && col(events, 'event_type')[i] === 'Goal' && col(events, 'team_venue')[i] === venue).length;
      const home = Number(col(schedule, 'home_total_goals')[schedule.rows.indexOf(s)]);
      const away = Number(col(schedule, 'away_total_goals')[schedule.rows.indexOf(s)]);
      expect([count('Home'), count('Away')], `game ${id}`).toEqual([home, away]);
      const periods = ['1', '2', '3'].map((p) => Number(col(schedule, `home_team_period${p}_goals`)[schedule.rows.indexOf(s)]));
      expect(periods.reduce((a, b) => a + b, 0)).toBe(home);
      const teamGoals = teams.rows
        .filter((r) => r[1] === id)
        .map((r) => [col(teams, 'venue')[teams.rows.indexOf(r)], Number(col(teams, 'goals')[teams.rows.indexOf(r)])]);
      expect(Object.fromEntries(teamGoals)).toEqual({ Home: home, Away: away });
      const against = goalies.rows.filter((r) => r[1] === id).map((r) => Number(col(goalies, 'goals_against')[goalies.rows.indexOf(r)]));
      expect(against).toEqual([away, home]);
      goals += home + away;
    }
    expect(goals).toBeGreaterThan(0);
  });

  it('writes games of the real export size', () => {
    const perGame = (table: string) => tables.get(table)!.rows.length / games;
    expect(perGame('fact_events')).toBeGreaterThan(1_100);
    expect(perGame('fact_events')).toBeLessThan(1_900);
    expect(perGame('fact_events_player') / perGame('fact_events')).toBeGreaterThan(1.6);
    expect(perGame('fact_shifts')).toBeGreaterThan(70);
    expect(perGame('fact_shifts')).toBeLessThan(150);
    expect(perGame('fact_shifts_player')).toBeGreaterThan(800);
    expect(perGame('fact_player_game_stats')).toBeGreaterThanOrEqual(24);
    expect(perGame('fact_team_game_stats')).toBe(2);
    expect(perGame('fact_goalie_game_stats')).toBe(2);
    expect(perGame('fact_h2h')).toBeGreaterThan(100);
    expect(perGame('fact_wowy')).toBeGreaterThan(100);
    expect(tables.get('dim_team')!.rows.length).toBeGreaterThanOrEqual(20);
    expect(tables.get('dim_player')!.rows.length).toBeGreaterThanOrEqual(15 * 20);
  });

  it('writes the export text styles: quoted commas and quotes, non-ASCII, URLs with queries, dates at midnight', () => {
    const all = [...tables.values()].map((t) => t.text).join('');
    expect(all).toMatch(/"[^"\n]*,[^"\n]*"/); // a field quoted for its comma
    expect(all).toMatch(/""/); // a quote inside a quoted field
    expect(all).toMatch(/\d – [^,]+ \(G\)|[^,]+ – \d/); // `5 – Sam Hale (G)` goalie names
    expect(all).toMatch(/[’éøñ]/);
    expect(col(tables.get('dim_player')!, 'player_image').every((u) => /^https:\/\/\S+\?\S+=\S+&ssl=1$/.test(u))).toBe(true);
    expect(col(tables.get('dim_schedule')!, 'date').every((d) => /^\d{4}-\d{2}-\d{2} 00:00:00$/.test(d))).toBe(true);
  });
});

describe('generateExport, dirty', () => {
  const dir = path.join(scratch, 'dirty');
  let result: GenerateResult;
  let tables: Map<string, Csv>;

  beforeAll(async () => {
    result = await generateExport({ games: 3, outDir: dir, seed: 7, dirty: true });
    tables = readAll(dir);
  });

  it('injects exactly one duplicate event key', () => {
    const keys = col(tables.get('fact_events')!, 'event_key');
    const seen = new Set<string>();
    const dups = keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
    expect(dups).toEqual(result.quirks.duplicateEventKeys);
    expect(dups).toHaveLength(1);
  });

  it('injects event-player rows pointing at a missing event, and breaks no other relation', () => {
    const violations = relationViolations(tables);
    const orphans = violations.get('fact_events_player.event_key → fact_events') ?? [];
    expect(orphans.length).toBe(result.quirks.orphanEventPlayerRows);
    expect(orphans.length).toBeGreaterThan(1);
    expect(new Set(orphans)).toEqual(new Set([`EV${result.gameIds[0]}00000`, `EV${result.gameIds[2]}00000`]));
    violations.delete('fact_events_player.event_key → fact_events');
    expect(Object.fromEntries(violations)).toEqual({});
  });

  it('injects rows without a player, and counts them', () => {
    const events = new Set(col(tables.get('fact_events')!, 'event_key'));
    const ep = tables.get('fact_events_player')!;
    const playerless = ep.rows.filter((_, i) => col(ep, 'player_id')[i] === '' && events.has(col(ep, 'event_key')[i]!));
    expect(playerless.length).toBe(result.quirks.eventPlayerRowsWithoutPlayer);
    expect(playerless.length).toBeGreaterThan(0);
    const sp = col(tables.get('fact_shifts_player')!, 'player_id').filter((v) => v === '');
    expect(sp.length).toBe(result.quirks.shiftPlayerRowsWithoutPlayer);
    expect(sp.length).toBeGreaterThan(0);
  });
});

describe('determinism', () => {
  it('writes the same bytes for the same seed and options, in this thread or in workers', async () => {
    const a = path.join(scratch, 'same-a');
    const b = path.join(scratch, 'same-b');
    const c = path.join(scratch, 'same-workers');
    await generateExport({ games: 5, outDir: a, seed: 42, dirty: true, workers: 0 });
    await generateExport({ games: 5, outDir: b, seed: 42, dirty: true, workers: 0 });
    await generateExport({ games: 5, outDir: c, seed: 42, dirty: true, workers: 2 });
    expect(digests(b)).toEqual(digests(a));
    expect(digests(c)).toEqual(digests(a));
  });

  it('writes other games for another seed', async () => {
    const a = path.join(scratch, 'seed-1');
    const b = path.join(scratch, 'seed-2');
    await generateExport({ games: 1, outDir: a, seed: 1 });
    await generateExport({ games: 1, outDir: b, seed: 2 });
    const da = digests(a);
    const db = digests(b);
    for (const t of ['dim_player', 'fact_events', 'fact_events_player', 'fact_shifts']) expect(db[t], t).not.toBe(da[t]);
  });
});

describe('value styles', () => {
  it('writes floats as Python does and quotes only where needed', () => {
    expect([0, 1730, -3, 87.5, -0.03, 10_001, Number.NaN].map(floatText)).toEqual(['0.0', '1730.0', '-3.0', '87.5', '-0.03', '10001.0', '']);
    expect(quoteIfNeeded('Copper Kings, LLC')).toBe('"Copper Kings, LLC"');
    expect(quoteIfNeeded('Club "A" Division')).toBe('"Club ""A"" Division"');
    expect(quoteIfNeeded('two\nlines')).toBe('"two\nlines"');
    expect(quoteIfNeeded('5 – Sam O’Brien (G)')).toBe('5 – Sam O’Brien (G)');
  });

  it('formats booleans, dates and times of any declared column as the export does', () => {
    const t: TableDecl = defineTable({
      name: 'sample',
      category: 'dims',
      key: ['id'],
      naturalKey: ['id'],
      gameColumn: null,
      defaultOperation: 'upsert',
      columns: columns`
        id    integer not null
        flag  boolean
        day   date
        at    time
        ratio numeric
        note  text
      `,
    });
    const f = rowFormatter(t);
    expect(f.header).toBe('id,flag,day,at,ratio,note');
    expect(f.format({ id: 1, flag: false, day: '2024-09-15 00:00:00', at: '18:45:00', ratio: 2, note: 'a, b' })).toBe(
      '1,False,2024-09-15 00:00:00,18:45:00,2.0,"a, b"',
    );
    expect(f.format({ id: 2, flag: true })).toBe('2,True,,,,');
    expect(() => f.format({ id: 1.5 })).toThrow(/integer column id got 1.5/);
    expect(() => f.check({ id: 1, nope: 2 })).toThrow(/has no column "nope"/);
    expect(styleOf(t.columns[1]!, new Set())).toBe('bool');
  });
});

describe.skipIf(!hasRealData)('the real export (../shared/data)', () => {
  const dir = path.join(scratch, 'compare');
  let generated: Map<string, Csv>;
  let real: Map<string, Csv>;

  beforeAll(async () => {
    await generateExport({ games: 2, outDir: dir, seed: 3 });
    generated = readAll(dir);
    real = new Map(WAREHOUSE.map((t) => [t.name, readCsv(path.join(REAL_CSV, `${t.name}.csv`))]));
  });

  it('has the same headers, in the same order', () => {
    for (const t of WAREHOUSE) expect(generated.get(t.name)!.header, t.name).toEqual(real.get(t.name)!.header);
  });

  it('writes each number column in the style the real export uses for it', () => {
    const styleIn = (values: string[]) => {
      const v = values.filter((x) => x !== '');
      if (!v.length) return null;
      if (v.every((x) => /^-?\d+$/.test(x))) return 'int';
      return v.every((x) => /^-?\d+(\.\d+)?$/.test(x) && x.includes('.')) ? 'float' : 'mixed';
    };
    const differ: string[] = [];
    let compared = 0;
    for (const t of WAREHOUSE) {
      for (const c of t.columns) {
        if (c.type !== 'integer' && c.type !== 'bigint' && c.type !== 'numeric') continue;
        const inReal = styleIn(col(real.get(t.name)!, c.header));
        const inOurs = styleIn(col(generated.get(t.name)!, c.header));
        if (inReal === null || inOurs === null || (c.type === 'numeric' && inReal === 'int')) continue;
        compared++;
        if (inReal !== inOurs) differ.push(`${t.name}.${c.header}: real ${inReal}, generated ${inOurs}`);
      }
    }
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(400);
  });

  it('uses the key formats of the real export', () => {
    for (const table of Object.keys(GAME_KEY_PREFIX) as GameKeyTable[]) {
      const t = tableNamed(table);
      const header = t.columns.find((c) => c.name === t.key[0])!.header;
      for (const [source, csv] of [
        ['real', real.get(table)!],
        ['generated', generated.get(table)!],
      ] as const) {
        const ids = col(csv, 'game_id');
        const wrong = col(csv, header).filter((k, i) => !gameKeyPattern(table, Number(ids[i])).test(k));
        expect(wrong.slice(0, 3), `${source} ${table}.${header}`).toEqual([]);
      }
    }
    expect(col(real.get('dim_player')!, 'player_id').every((id) => PLAYER_ID_PATTERN.test(id))).toBe(true);
    // The real league has one team of another federation (C1xxxxx); every N-team fits.
    expect(
      col(real.get('dim_team')!, 'team_id')
        .filter((id) => id.startsWith('N'))
        .every((id) => TEAM_ID_PATTERN.test(id)),
    ).toBe(true);
    expect(col(real.get('dim_schedule')!, 'date').every((d) => /^\d{4}-\d{2}-\d{2} 00:00:00$/.test(d))).toBe(true);
  });
});

describe('benchsight generate', () => {
  /** `benchsight generate ...` through the CLI's one parser, in-process. */
  const generate = async (...argv: string[]) => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['generate', ...argv], { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) }, {});
    return { code, stdout: stdout.text, stderr: stderr.text };
  };

  it('generates the files and prints a summary', async () => {
    const dir = path.join(scratch, 'cli');
    const r = await generate('--games', '2', '--out', dir, '--seed', '5', '--first-game', '80001', '--dirty');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/generated 2 games \(ids 80001–80002, seed 5, dirty\)/);
    for (const t of WAREHOUSE) expect(r.stdout).toContain(`${t.name}.csv`);
    expect(r.stdout).toMatch(/12 files\s+[\d,]+ rows\s+[\d.]+ MB/);
    expect(r.stdout).toMatch(/injected: duplicate event key EV8000101\d{3}/);
    expect(readCsv(path.join(dir, 'dim_schedule.csv')).rows[0]![0]).toBe('80001');
  });

  it('--json prints what it wrote as JSON', async () => {
    const dir = path.join(scratch, 'cli-json');
    const r = await generate('--games', '1', '--out', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { ok: boolean; gameIds: number[]; files: { file: string; rows: number }[] };
    expect(j.ok).toBe(true);
    expect(j.gameIds).toHaveLength(1);
    expect(j.files.map((f) => path.basename(f.file)).sort()).toEqual(WAREHOUSE.map((t) => `${t.name}.csv`).sort());
  });

  it.each([
    [[], /--games is required/],
    [['--games', '3'], /--out is required/],
    [['--games', 'many', '--out', 'x'], /--games must be a whole number/],
    [['--games', '0', '--out', 'x'], /--games must be from 1 to 100,000/],
    [['--games', '1', '--out', 'x', '--colour', 'red'], /unknown option '--colour'/],
    [['--games', '1', '--out', 'x', '--jsno'], /unknown option '--jsno'\s+\(Did you mean --json\?\)/],
    [['--games', '1', '--out', 'x', 'extra'], /too many arguments/],
  ])('rejects %j with a usage error', async (argv, message) => {
    const r = await generate(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/generate --help/);
    expect(r.stdout).toBe('');
  });

  it('fails with exit 1 and the reason when it cannot write', async () => {
    const blocker = path.join(scratch, 'blocker');
    writeFileSync(blocker, 'a file, not a folder');
    const r = await generate('--games', '1', '--out', path.join(blocker, 'sub'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot create the output folder .*blocker\/sub: ENOTDIR/);
  });
});
