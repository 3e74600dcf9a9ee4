/**
 * Upsert and merge of every warehouse table into a database that already holds its rows,
 * at the real tables' widths (fact_player_game_stats: 317 columns): a row compared
 * with itself is unchanged, one changed value is one update, one row left out of a
 * merge is one delete. On the real export when it is there, else on a generated one.
 * CI runs this file on PostgreSQL 15 and on the embedded PostgreSQL 17.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load, type LoadResult } from '../../loader/engine';
import { generateExport } from '../../loader/generate';
import { relationsOf, WAREHOUSE } from '../../loader/warehouse';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_CSV } from '../support/real-data';

let t: TestDatabase;
let source: string;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  if (hasRealData) source = REAL_CSV;
  else {
    source = mkdtempSync(path.join(tmpdir(), 'bs-every-'));
    await generateExport({ games: 3, outDir: source, seed: 11 });
  }
  const r = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(source), initiatedBy: 'test' });
  expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
}, 120_000);
afterAll(async () => t?.drop());

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function loadOne(table: string, operation: 'upsert' | 'merge', rows: string[][]): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-every-'));
  writeFileSync(path.join(dir, `${table}.csv`), `${rows.map((r) => r.map(csvField).join(',')).join('\n')}\n`);
  return load(t.db, { scope: { kind: 'tables', tables: [table] }, operation, source: folderSource(dir), initiatedBy: 'test' });
}

const TABLES = WAREHOUSE.map((d) => [d.name, d] as const);
/** The file each table's loads start from: the export's, then with the changed value. */
const files = new Map<string, string[][]>();
const storedRows = (table: string) => t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`).then((r) => Number(r.rows[0]!.n));

// Every upsert first, then every merge: a merge deletes a row that other tables' rows may
// point to, and a changed row that points nowhere is rightly rejected.
describe.each(TABLES)('upsert of %s into a table that has its rows', (table, decl) => {
  let rows: string[][];
  let stored: number;
  beforeAll(async () => {
    rows = parse(readFileSync(path.join(source, `${table}.csv`), 'utf8'), { bom: true }) as string[][];
    files.set(table, rows);
    stored = await storedRows(table);
  });

  it('upsert of the same file changes nothing: every stored row is unchanged', async () => {
    const r = await loadOne(table, 'upsert', rows);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ inserted: 0, updated: 0, deleted: 0, unchanged: stored });
  });

  it('upsert with one value changed updates that row, and only it', async () => {
    const [header, ...body] = rows;
    const keyAt = decl.key.map((k) => header!.findIndex((h) => decl.columns.find((c) => c.name === k)?.header === h));
    const stable = new Set([...decl.key, ...decl.naturalKey, decl.gameColumn, ...relationsOf(table).map((x) => x.column)]);
    // A row that is stored, and a whole number in it that is not part of a key, its natural key or a relation
    // (a changed natural key is another row).
    const keyOf = (r: string[]) => keyAt.map((i) => (r[i] ?? '').replace(/\.0$/, '')).join('|');
    const storedKeys = new Set((await t.db.query<{ k: string }>(`SELECT concat_ws('|', ${decl.key.join(', ')}) AS k FROM ${table}`)).rows.map((x) => x.k));
    let target = -1;
    let col = -1;
    for (let i = 0; i < body.length && col < 0; i++) {
      if (!storedKeys.has(keyOf(body[i]!))) continue;
      col = header!.findIndex((h, j) => {
        const c = decl.columns.find((x) => x.header === h);
        return c && !stable.has(c.name) && ['integer', 'numeric', 'text'].includes(c.type) && /^\d+(\.0)?$/.test(body[i]![j] ?? '');
      });
      target = i;
    }
    expect(col, 'a row with a whole number to change').toBeGreaterThanOrEqual(0);
    const changed = body.map((r, i) => (i === target ? r.map((v, j) => (j === col ? String(parseInt(v, 10) + 1) : v)) : r));
    const r = await loadOne(table, 'upsert', [header!, ...changed]);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0], `${header![col]} of line ${target + 2}: ${JSON.stringify(r.tables[0]!.rejectedByReason)} ${r.tables[0]!.warnings}`).toMatchObject({
      inserted: 0,
      updated: 1,
      deleted: 0,
      unchanged: stored - 1,
    });
    const name = decl.columns.find((c) => c.header === header![col])!.name;
    const where = decl.key.map((k, i) => `${k}::text = $${i + 1}`).join(' AND ');
    const keyValues = keyAt.map((i) => body[target]![i]!.replace(/\.0$/, ''));
    const now = await t.db.query<{ v: string }>(`SELECT ${name}::text AS v FROM ${table} WHERE ${where}`, keyValues);
    expect(Number(now.rows[0]!.v)).toBe(parseInt(body[target]![col]!, 10) + 1);
    files.set(table, [header!, ...changed]);
  });
});

describe.each(TABLES)('merge of %s into a table that has its rows', (table, decl) => {
  it('merge of the file without one stored row deletes that row, and only it', async () => {
    const stored = await storedRows(table);
    const [header, ...body] = files.get(table)!;
    const keyAt = decl.key.map((k) => header!.findIndex((h) => decl.columns.find((c) => c.name === k)?.header === h));
    const storedKeys = new Set((await t.db.query<{ k: string }>(`SELECT concat_ws('|', ${decl.key.join(', ')}) AS k FROM ${table}`)).rows.map((x) => x.k));
    const drop = body.findIndex((r) => storedKeys.has(keyAt.map((i) => (r[i] ?? '').replace(/\.0$/, '')).join('|')));
    const r = await loadOne(table, 'merge', [header!, ...body.filter((_, i) => i !== drop)]);
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(r.tables[0]).toMatchObject({ inserted: 0, updated: 0, deleted: 1, unchanged: stored - 1 });
    expect(Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n)).toBe(stored - 1);
  });
});
