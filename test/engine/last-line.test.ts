/**
 * Every table's file saved without a final newline (as many editors and hand-made
 * exports end): the last row is a row like the others, on every path a file takes.
 * On a generated export in the real format.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesSource, folderSource, load, streamFile, type LoadResult } from '../../loader/engine';
import { generateExport } from '../../loader/generate';
import { TABLE_NAMES, tableNamed } from '../../loader/warehouse';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
/** The generated export, each file without its final newline. */
let dir: string;
const fileRows = new Map<string, string[][]>();
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const full = mkdtempSync(path.join(tmpdir(), 'bs-lastline-'));
  await generateExport({ games: 2, outDir: full, seed: 5 });
  dir = mkdtempSync(path.join(tmpdir(), 'bs-lastline-'));
  for (const name of readdirSync(full)) {
    const text = readFileSync(path.join(full, name), 'utf8');
    expect(text.endsWith('\n'), name).toBe(true);
    writeFileSync(path.join(dir, name), text.replace(/\r?\n$/, ''));
    fileRows.set(name.replace(/\.csv$/, ''), parse(text, { bom: true }) as string[][]);
  }
}, 120_000);
afterAll(async () => t?.drop());

const stored = async (table: string) => Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
const rejected = async (r: LoadResult, table: string) =>
  Number(
    (await t.db.query<{ n: string }>('SELECT count(*) AS n FROM load_rejects WHERE request_id = $1 AND table_name = $2', [r.requestId, table])).rows[0]!.n,
  );

/** The key of a file's last row, as the table stores it. */
function lastKey(table: string): string {
  const [header, ...body] = fileRows.get(table)!;
  const decl = tableNamed(table);
  const at = header!.findIndex((h) => decl.columns.find((c) => c.name === decl.key[0])?.header === h);
  return body[body.length - 1]![at]!.replace(/\.0$/, '');
}
const hasLastRow = async (table: string) =>
  (await t.db.query(`SELECT 1 FROM ${table} WHERE ${tableNamed(table).key[0]}::text = $1`, [lastKey(table)])).rows.length === 1;

/** Every row of every file is in its table or in load_rejects; every last row is in its table. */
async function expectEveryRow(r: LoadResult): Promise<void> {
  expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
  for (const table of TABLE_NAMES) {
    const inFile = fileRows.get(table)!.length - 1;
    const tr = r.tables.find((x) => x.table === table)!;
    expect(tr.rowsInFile, table).toBe(inFile);
    expect(tr.inserted + tr.updated + tr.unchanged + tr.rejected, table).toBe(inFile);
    expect(await rejected(r, table), table).toBe(tr.rejected);
    expect(await hasLastRow(table), `${table}: the last row ${lastKey(table)}`).toBe(true);
  }
}

describe('every table, its file without a final newline', () => {
  it('replace of whole tables (straight into the emptied tables)', async () => {
    const r = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
    await expectEveryRow(r);
    for (const table of TABLE_NAMES) expect(await stored(table), table).toBe(r.tables.find((x) => x.table === table)!.inserted);
  });

  // A stream of unknown size takes the big files' way (TRUNCATE, indexes parked).
  it("replace of whole tables from streams of unknown size (the big files' way)", async () => {
    const source = filesSource(
      TABLE_NAMES.map((table) => streamFile(table, `${table}.csv (stream)`, () => Readable.from([readFileSync(path.join(dir, `${table}.csv`))]))),
    );
    const r = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source, initiatedBy: 'test' });
    await expectEveryRow(r);
    for (const table of TABLE_NAMES) expect(await stored(table), table).toBe(r.tables.find((x) => x.table === table)!.inserted);
  });

  it("upsert into tables that have rows (staged), each table lacking its file's last row", async () => {
    const before = new Map<string, number>();
    for (const table of TABLE_NAMES) {
      await t.db.query(`DELETE FROM ${table} WHERE ${tableNamed(table).key[0]}::text = $1`, [lastKey(table)]);
      before.set(table, await stored(table));
    }
    const r = await load(t.db, { scope: { kind: 'all' }, operation: 'upsert', source: folderSource(dir), initiatedBy: 'test' });
    await expectEveryRow(r);
    for (const table of TABLE_NAMES) {
      expect(r.tables.find((x) => x.table === table)!.inserted, table).toBe(1);
      expect(await stored(table), table).toBe(before.get(table)! + 1);
    }
  });
});
