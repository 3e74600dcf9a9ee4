/**
 * A whole-table replace COPYs the file straight into the emptied table and takes out
 * what may not stay afterwards (000008). The rows have no line column there: a row's
 * CSV line comes from its place in the table and the reader's note of where records
 * span several lines. These tests hold that path to the same outcomes as any load:
 * the right rows, rejects with the line a person sees in an editor, errors that
 * change nothing, and the staged way taking over when the table refuses a row.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIRECT_PARK_BYTES, folderSource, load, type LoadRequest } from '../../loader/engine';
import { MAX_LINE_BREAKS } from '../../loader/engine/csv-records';
import { generateExport } from '../../loader/generate';
import { csvFor, folderWith } from '../support/fixtures';
import { freshDatabase, loaderRole, type TestDatabase } from '../support/database';
import type { Database, Queryable } from '../../loader/db/database';
import { openPostgres } from '../../loader/db/postgres';
import pg from 'pg';
import { slowSource } from './slow-source';

let t: TestDatabase;
let dir: string;
let original: string;
const PARENTS = ['dim_player', 'dim_team', 'dim_schedule', 'fact_events'];

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  dir = mkdtempSync(path.join(tmpdir(), 'benchsight-direct-'));
  await generateExport({ games: 9, outDir: dir, seed: 5 });
  const r = await load(t.db, { scope: { kind: 'tables', tables: PARENTS }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
  expect(r.status).toBe('succeeded');
  original = readFileSync(path.join(dir, 'fact_events_player.csv'), 'utf8');
  expect(original.length).toBeGreaterThan(DIRECT_PARK_BYTES); // big enough to load without its indexes
}, 120_000);

afterAll(async () => {
  await t?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await t.db.query('DELETE FROM load_rejects');
});

/** A CSV of the rows, and the line each row starts on (as an editor numbers lines: by \n). */
function toCsv(header: string[], rows: string[][], after: (i: number) => string = () => ''): { csv: string; lines: number[] } {
  const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  let csv = header.map(cell).join(',') + '\n';
  let line = 2;
  const lines: number[] = [];
  rows.forEach((r, i) => {
    lines.push(line);
    const text = r.map(cell).join(',') + '\n' + after(i);
    csv += text;
    line += text.split('\n').length - 1;
  });
  return { csv, lines };
}

/** The statements of the last load (to tell the direct way from the staged one). */
let statements: string[] = [];
/** The options of each bs_apply_loaded call of the last load. */
let applied: unknown[] = [];
function recorded(db: Database): Database {
  const wrap = <Q extends Queryable>(q: Q): Q =>
    new Proxy(q, {
      get(target, p) {
        const v = Reflect.get(target, p) as unknown;
        if (p === 'query' || p === 'copyFrom') {
          return (sql: string, arg: unknown) => {
            statements.push(sql);
            if (sql.includes('bs_apply_loaded')) applied.push(JSON.parse((arg as string[])[1]!));
            return (v as (a: string, b: unknown) => unknown).call(target, sql, arg);
          };
        }
        if (p === 'transaction') return (fn: (tx: Queryable) => Promise<unknown>) => (v as Database['transaction']).call(target, (tx) => fn(wrap(tx)));
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return wrap(db);
}

function replaceEventPlayers(csv: string, extra: Partial<LoadRequest> = {}) {
  const src = folderWith({ 'fact_events_player.csv': csv });
  statements = [];
  applied = [];
  return load(recorded(t.db), {
    scope: { kind: 'tables', tables: ['fact_events_player'] },
    operation: 'replace',
    source: folderSource(src),
    initiatedBy: 'test',
    ...extra,
  });
}

async function rejects(): Promise<{ line: number; reason: string; detail: string; key: string }[]> {
  const r = await t.db.query<{ line: string; reason: string; detail: string; key: string }>(
    "SELECT line, reason, detail, row_data->>'event_player_key' AS key FROM load_rejects WHERE table_name = 'fact_events_player' ORDER BY line",
  );
  return r.rows.map((x) => ({ ...x, line: Number(x.line) }));
}

async function tableRows(): Promise<number> {
  return Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events_player')).rows[0]!.n);
}

describe('a whole-table replace straight into the table', () => {
  it('names the CSV line of every reject, past multi-line fields and blank lines, and keeps the first of a repeated key', async () => {
    const [header, ...rows] = parse(original) as string[][];
    const col = (name: string) => header!.indexOf(name);
    const edited = rows.map((r) => [...r]);
    // multi-line values early in the file move every later record's line
    for (const i of [5, 6, 400]) edited[i]![col('event_detail')] = 'line one\nline two\r\nline three';
    // an event that does not exist, and a key that appeared before
    edited[3000]![col('event_key')] = 'EV999999999';
    const dupOf = edited[1200]!;
    edited[7000] = [...edited[7000]!];
    edited[7000]![col('event_player_key')] = dupOf[col('event_player_key')]!;
    // blank lines between records (skipped, but counted by an editor)
    const { csv, lines } = toCsv(header!, edited, (i) => (i === 50 || i === 2500 ? '\n' : ''));

    const r = await replaceEventPlayers(csv);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    // one COPY, into the table itself (TRUNCATEd: the lines come from the rows' order)
    expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player']);
    expect(applied.map((o) => Object.keys((o as { lines: object }).lines).sort())).toEqual([['base', 'breaks']]);
    expect(r.tables[0]).toMatchObject({ rowsInFile: rows.length, inserted: rows.length - 2, rejected: 2, rejectedByReason: { orphan: 1, duplicate_key: 1 } });
    expect(await tableRows()).toBe(rows.length - 2);
    expect(await rejects()).toEqual([
      { line: lines[3000], reason: 'orphan', detail: 'event_key EV999999999 is not in fact_events.event_key', key: edited[3000]![col('event_player_key')] },
      {
        line: lines[7000],
        reason: 'duplicate_key',
        detail: `key ${dupOf[col('event_player_key')]} appears again (first on line ${lines[1200]})`,
        key: dupOf[col('event_player_key')],
      },
    ]);
    // the first occurrence stayed; the multi-line value is stored as written
    const kept = await t.db.query<{ event_index: number; event_detail: string }>(
      'SELECT event_index, event_detail FROM fact_events_player WHERE event_player_key = $1',
      [dupOf[col('event_player_key')]],
    );
    expect(kept.rows).toEqual([{ event_index: Math.trunc(Number(dupOf[col('event_index')])), event_detail: dupOf[col('event_detail')] || null }]);
    const multi = await t.db.query<{ event_detail: string }>('SELECT event_detail FROM fact_events_player WHERE event_player_key = $1', [
      edited[400]![col('event_player_key')],
    ]);
    expect(multi.rows[0]!.event_detail).toBe('line one\nline two\r\nline three');
    // and the table has its indexes back
    const idx = await t.db.query<{ n: string }>("SELECT count(*) AS n FROM pg_index WHERE indrelid = 'fact_events_player'::regclass");
    expect(Number(idx.rows[0]!.n)).toBe(3);
  });

  it('names the line of each of many rejects over the whole table: the first row, runs of neighbours, the last row', async () => {
    const [header, ...rows] = parse(original) as string[][];
    const col = (name: string) => header!.indexOf(name);
    const edited = rows.map((r) => [...r]);
    const n = edited.length;
    // every 7th row from 100 on, a run of 40 neighbours, the first and the last row: rejects
    // in most of the table's pages, several to a page and pages apart
    const orphans = [
      ...new Set([0, 1, ...Array.from({ length: 40 }, (_, i) => 2000 + i), ...edited.map((_, i) => i).filter((i) => i >= 100 && i % 7 === 0), n - 1]),
    ].sort((a, b) => a - b);
    for (const i of orphans) edited[i]![col('event_key')] = `EV9${String(i).padStart(9, '0')}`;
    for (const i of [50, 3001]) edited[i]![col('event_detail')] = 'two\nlines';
    const { csv, lines } = toCsv(header!, edited, (i) => (i === 700 ? '\n\n' : ''));

    const r = await replaceEventPlayers(csv);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player']);
    expect(r.tables[0]).toMatchObject({ inserted: n - orphans.length, rejected: orphans.length, rejectedByReason: { orphan: orphans.length } });
    const got = await rejects();
    expect(got.map((x) => [x.line, x.key])).toEqual(orphans.map((i) => [lines[i], edited[i]![col('event_player_key')]]));
    expect(got.every((x, k) => x.detail === `event_key EV9${String(orphans[k]).padStart(9, '0')} is not in fact_events.event_key`)).toBe(true);
    expect(await tableRows()).toBe(n - orphans.length);
  });

  it('an upsert into an empty table goes straight in too; into a table with rows, the staged way', async () => {
    const [header, ...rows] = parse(original) as string[][];
    await t.db.query('TRUNCATE fact_events_player');
    const edited = rows.slice(0, 3000).map((r) => [...r]);
    edited[2000]![header!.indexOf('event_key')] = 'EV999999999';
    const { csv, lines } = toCsv(header!, edited);
    const first = await replaceEventPlayers(csv, { operation: 'upsert' });
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player']);
    expect(first.tables[0]).toMatchObject({ operation: 'upsert', rowsInFile: 3000, inserted: 2999, updated: 0, deleted: 0, rejected: 1 });
    expect((await rejects()).map((x) => [x.line, x.reason])).toEqual([[lines[2000], 'orphan']]);
    // again, with one value changed: the table has rows now
    edited[10]![header!.indexOf('event_detail')] = 'changed';
    await t.db.query('DELETE FROM load_rejects');
    const again = await replaceEventPlayers(toCsv(header!, edited).csv, { operation: 'upsert' });
    expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY bs_stage_1']);
    expect(again.tables[0]).toMatchObject({ inserted: 0, updated: 1, unchanged: 2998, rejected: 1 });
    expect(await tableRows()).toBe(2999);
  });

  it('finds an orphan in a column whose values the reader did not gather (quoted values)', async () => {
    const [header, ...rows] = parse(original) as string[][];
    const edited = rows.slice(0, 2000).map((r) => [...r]);
    edited[1500]![header!.indexOf('player_id')] = 'P999999';
    const { csv, lines } = toCsv(header!, edited);
    const r = await replaceEventPlayers(csv.replace(',P999999,', ',"P999999",'));
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player']);
    expect(await rejects()).toEqual([
      { line: lines[1500], reason: 'orphan', detail: 'player_id P999999 is not in dim_player.player_id', key: edited[1500]![0] },
    ]);
  });

  it('reports the rows it emptied out of the table as deleted', async () => {
    expect((await replaceEventPlayers(original)).status).toBe('succeeded');
    const before = await tableRows();
    const [header, ...rows] = parse(original) as string[][];
    const r = await replaceEventPlayers(toCsv(header!, rows.slice(0, 1000)).csv);
    expect(r.tables[0]).toMatchObject({ deleted: before, inserted: 1000, rejected: 0 });
    expect(await tableRows()).toBe(1000);
  });

  it('a row without a key: the staged way takes over and rejects it with its line', async () => {
    const [header, ...rows] = parse(original) as string[][];
    const edited = rows.map((r) => [...r]);
    edited[2222]![header!.indexOf('event_player_key')] = '';
    const r = await replaceEventPlayers(toCsv(header!, edited).csv);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player', 'COPY bs_stage_1']);
    expect(r.tables[0]).toMatchObject({ rowsInFile: rows.length, inserted: rows.length - 1, rejectedByReason: { missing_key: 1 } });
    expect((await rejects()).map((x) => [x.line, x.reason])).toEqual([[2224, 'missing_key']]);
  });

  it('a repeated key in a small file (its index is there during COPY): the staged way takes over', async () => {
    const [header, ...rows] = parse(readFileSync(path.join(dir, 'fact_events.csv'), 'utf8')) as string[][];
    const few = rows.slice(0, 40);
    const again = [...few[7]!];
    again[header!.indexOf('event_index')] = '99999.0';
    const { csv, lines } = toCsv(header!, [...few, again]);
    expect(csv.length).toBeLessThan(DIRECT_PARK_BYTES);
    try {
      const r = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith({ 'fact_events.csv': csv })),
      });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(r.tables[0]).toMatchObject({ rowsInFile: 41, inserted: 40, rejectedByReason: { duplicate_key: 1 } });
      const rej = await t.db.query<{ line: string; detail: string }>("SELECT line, detail FROM load_rejects WHERE table_name = 'fact_events'");
      expect(rej.rows).toEqual([{ line: String(lines[40]), detail: `key ${few[7]![0]} appears again (first on line ${lines[7]})` }]);
      const kept = await t.db.query<{ event_index: number }>('SELECT event_index FROM fact_events WHERE event_key = $1', [few[7]![0]]);
      expect(kept.rows).toEqual([{ event_index: Math.trunc(Number(few[7]![header!.indexOf('event_index')])) }]);
    } finally {
      // the parent of the other tests' rows comes back
      const back = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        source: folderSource(dir),
        initiatedBy: 'test',
      });
      expect(back.status).toBe('succeeded');
    }
  });

  it('a table refusing a row late in a request: the request runs again with that file staged, and the earlier ones load once', async () => {
    const [header, ...rows] = parse(readFileSync(path.join(dir, 'fact_events.csv'), 'utf8')) as string[][];
    const few = rows.slice(0, 40);
    const again = [...few[3]!];
    const { csv, lines } = toCsv(header!, [...few, again]);
    const teams = readFileSync(path.join(dir, 'dim_team.csv'), 'utf8');
    const teamRows = (parse(teams) as string[][]).length - 1;
    try {
      statements = [];
      const r = await load(recorded(t.db), {
        scope: { kind: 'tables', tables: ['dim_team', 'fact_events'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith({ 'dim_team.csv': teams, 'fact_events.csv': csv })),
      });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      // the first try: both straight in, fact_events refused; the second: fact_events staged
      expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual([
        'COPY dim_team',
        'COPY fact_events',
        'COPY dim_team',
        'COPY bs_stage_2',
      ]);
      expect(r.tables.map((x) => [x.table, x.inserted, x.rejected])).toEqual([
        ['dim_team', teamRows, 0],
        ['fact_events', 40, 1],
      ]);
      expect(Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM dim_team')).rows[0]!.n)).toBe(teamRows);
      const rej = await t.db.query<{ line: string; table_name: string }>('SELECT line, table_name FROM load_rejects WHERE request_id = $1', [r.requestId]);
      expect(rej.rows).toEqual([{ line: String(lines[40]), table_name: 'fact_events' }]);
      const hist = await t.db.query<{ kind: string; status: string; rows_inserted: string }>(
        'SELECT kind, status, rows_inserted FROM load_history WHERE request_id = $1 ORDER BY id',
        [r.requestId],
      );
      expect(hist.rows.map((h) => [h.kind, h.status, Number(h.rows_inserted)])).toEqual([
        ['request', 'succeeded', teamRows + 40],
        ['table', 'succeeded', teamRows],
        ['table', 'succeeded', 40],
      ]);
    } finally {
      const back = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        source: folderSource(dir),
        initiatedBy: 'test',
      });
      expect(back.status).toBe('succeeded');
    }
  });

  it('writes the rows of a big file frozen: the pages are all-visible, with nothing left for VACUUM to freeze', async () => {
    await t.db.query('CREATE EXTENSION IF NOT EXISTS pg_visibility');
    const r = await replaceEventPlayers(original);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    // Every page that holds rows (the pages the rejects were deleted from are the
    // exception). PostgreSQL 16 and later extend a table by several pages at a time while
    // COPY fills it: the empty pages left at its end are not marked, which is right.
    const v = await t.db.query<{ pages: string; all_frozen: string }>(
      `SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM fact_events_player f
                                             WHERE f.ctid >= format('(%s,0)', m.blkno)::tid AND f.ctid < format('(%s,0)', m.blkno + 1)::tid)) AS pages,
              count(*) FILTER (WHERE m.all_frozen) AS all_frozen
       FROM pg_visibility_map('fact_events_player') m`,
    );
    const pages = Number(v.rows[0]!.pages);
    expect(pages).toBeGreaterThan(10);
    expect(Number(v.rows[0]!.all_frozen)).toBeGreaterThanOrEqual(pages - r.tables[0]!.rejected);
  });

  it.each([
    ['duplicates', 'duplicate key on line', 'event_player_key'],
    ['orphans', 'is not in fact_events.event_key', 'event_key'],
  ] as const)('--strict %s fails with the line, column and value, and the table keeps its rows', async (policy, message, column) => {
    expect((await replaceEventPlayers(original)).status).toBe('succeeded');
    const before = await tableRows();
    const [header, ...rows] = parse(original) as string[][];
    const edited = rows.map((r) => [...r]);
    const c = header!.indexOf(column);
    edited[5000]![c] = column === 'event_key' ? 'EV999999999' : edited[10]![c]!;
    const r = await replaceEventPlayers(toCsv(header!, edited).csv, { policy: { [policy]: 'fail' } });
    expect(r.status).toBe('failed');
    expect(r.error!.message).toContain(message);
    expect(r.error).toMatchObject({ line: 5002, column, value: edited[5000]![c] });
    expect(await tableRows()).toBe(before);
    const idx = await t.db.query<{ n: string }>("SELECT count(*) AS n FROM pg_index WHERE indrelid = 'fact_events_player'::regclass");
    expect(Number(idx.rows[0]!.n)).toBe(3);
  });

  it('a role that row-level security applies to loads the staged way (COPY refuses such a table)', async () => {
    const role = await loaderRole(t, `bs_rls_${process.pid}`);
    await t.db.query('ALTER TABLE fact_events_player ENABLE ROW LEVEL SECURITY');
    const db = openPostgres({ url: role.url });
    try {
      const [header, ...rows] = parse(original) as string[][];
      statements = [];
      const r = await load(recorded(db), {
        scope: { kind: 'tables', tables: ['fact_events_player'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith({ 'fact_events_player.csv': toCsv(header!, rows.slice(0, 500)).csv })),
      });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY bs_stage_1']);
      expect(r.tables[0]).toMatchObject({ inserted: 500, rejected: 0 });
      expect(await tableRows()).toBe(500);
    } finally {
      await db.close();
      await t.db.query('ALTER TABLE fact_events_player DISABLE ROW LEVEL SECURITY');
      await role.drop();
    }
  });

  it('a file with more multi-line records than the reader keeps track of is read again the staged way', async () => {
    const n = MAX_LINE_BREAKS + 1;
    const teams = Array.from({ length: n }, (_, k) => ({ index: k, team_id: `T${String(k).padStart(7, '0')}`, team_name: `Team ${k}\nof the league` }));
    teams.push({ index: n, team_id: 'T0000005', team_name: 'again' });
    try {
      statements = [];
      const r = await load(recorded(t.db), {
        scope: { kind: 'tables', tables: ['dim_team'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith({ 'dim_team.csv': csvFor('dim_team', teams) })),
      });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY dim_team', 'COPY bs_stage_1']);
      expect(r.tables[0]).toMatchObject({ rowsInFile: n + 1, inserted: n, rejectedByReason: { duplicate_key: 1 } });
      // every record takes two lines: record k (from 0) starts on line 2 + 2k
      const rej = await t.db.query<{ line: string; detail: string }>("SELECT line, detail FROM load_rejects WHERE table_name = 'dim_team'");
      expect(rej.rows).toEqual([{ line: String(2 + 2 * n), detail: 'key T0000005 appears again (first on line 12)' }]);
    } finally {
      const back = await load(t.db, { scope: { kind: 'tables', tables: ['dim_team'] }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
      expect(back.status).toBe('succeeded');
    }
  }, 60_000);

  describe('a small file: its table emptied with DELETE, rows wherever there is room', () => {
    it('names each reject by its line even when the rows do not land in file order', async () => {
      const [header, ...rows] = parse(original) as string[][];
      const col = (name: string) => header!.indexOf(name);
      const few = rows.slice(0, 900).map((r) => [...r]);
      expect(toCsv(header!, few).csv.length).toBeLessThan(DIRECT_PARK_BYTES);
      // free room all over the table: load, delete every other row, vacuum
      expect((await replaceEventPlayers(toCsv(header!, few).csv)).status).toBe('succeeded');
      await t.db.query("DELETE FROM fact_events_player WHERE right(event_player_key, 1) IN ('0', '2', '4', '6', '8')");
      await t.db.query('VACUUM fact_events_player');
      few[3]![col('event_detail')] = 'two\nlines';
      few[700]![col('event_key')] = 'EV999999999';
      few[850]![col('player_id')] = 'P999999';
      const { csv, lines } = toCsv(header!, few);
      const r = await replaceEventPlayers(csv);
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player']);
      expect(r.tables[0]).toMatchObject({ inserted: 898, rejected: 2 });
      // (the table was emptied with DELETE: the lines came from the keys)
      expect(applied.map((o) => Object.keys((o as { lines: object }).lines))).toEqual([['by_key']]);
      expect(await rejects()).toEqual([
        { line: lines[700], reason: 'orphan', detail: 'event_key EV999999999 is not in fact_events.event_key', key: few[700]![col('event_player_key')] },
        { line: lines[850], reason: 'orphan', detail: 'player_id P999999 is not in dim_player.player_id', key: few[850]![col('event_player_key')] },
      ]);
    });

    it('takes a file whose every value is quoted the same way', async () => {
      const [header, ...rows] = parse(original) as string[][];
      const few = rows.slice(0, 200).map((r) => [...r]);
      few[150]![header!.indexOf('event_key')] = 'EV999999999';
      const { lines } = toCsv(header!, few);
      const quoted = [header!, ...few].map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n';
      const r = await replaceEventPlayers(quoted);
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(statements.filter((q) => q.startsWith('COPY')).map((q) => q.split(' (')[0])).toEqual(['COPY fact_events_player']);
      expect(r.tables[0]).toMatchObject({ inserted: 199, rejected: 1 });
      expect((await rejects()).map((x) => [x.line, x.key])).toEqual([[lines[150], few[150]![0]]]);
    });

    it('lets readers see the old rows while the load runs', async () => {
      const [header, ...rows] = parse(original) as string[][];
      expect((await replaceEventPlayers(toCsv(header!, rows.slice(0, 300)).csv)).status).toBe('succeeded');
      const running = load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events_player'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: slowSource('fact_events_player', toCsv(header!, rows.slice(300, 500)).csv, { chunkBytes: 2000, delayMs: 30, withSize: true }),
      });
      await new Promise((res) => setTimeout(res, 150));
      const reader = new pg.Client({ connectionString: t.url, statement_timeout: 2000 });
      await reader.connect();
      try {
        const seen = await reader.query<{ n: string }>('SELECT count(*) AS n FROM fact_events_player');
        expect(Number(seen.rows[0]!.n)).toBe(300);
      } finally {
        await reader.end();
      }
      expect((await running).tables[0]).toMatchObject({ deleted: 300, inserted: 200 });
    });
  });
});
