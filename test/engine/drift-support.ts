/**
 * The acceptance of exports that change, shared by the real export's tests and the
 * generated ones: a database holding version A of an export (a template, copied per case),
 * then version B — A drifted by one kind (loader/generate/drift.ts) — loaded with an
 * operation and a scope, and checked for what a user cares about:
 *   - under the default drift policy it loads, or it is refused with an error that names
 *     the one option (--evolve) with which it then loads;
 *   - the plan (a dry run) said what the load then did, file by file, count by count;
 *   - every cell of the file in scope is in its column (aliases included), or its row is in
 *     the rejects with its reason: nothing lost;
 *   - no logical row twice (the natural key the database has then);
 *   - a column the file lacks is NULL in the rows a replace loaded, and kept in the rows an
 *     upsert or merge updated;
 *   - rows out of scope are untouched;
 *   - every schema change the load applied is recorded (schema_changes), and only those.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { expect } from 'vitest';
import type { Database } from '../../loader/db/database';
import { migrate } from '../../loader/db/migrate';
import { openPostgres } from '../../loader/db/postgres';
import { folderSource, load, type LoadRequest, type LoadResult, type TableDrift } from '../../loader/engine';
import { PANDAS_INDEX_NAMES } from '../../loader/engine/header';
import type { DriftKind } from '../../loader/generate/drift';
import { columnNameFor, EVOLVE, tableNamed, tablesOf, type Operation } from '../../loader/warehouse';
import { serverUrl, urlFor } from '../support/database';

export interface DriftCase {
  kind: DriftKind;
  operation: Operation;
  /** The whole tables, one game of every fact table, or one table for one game. */
  scope: 'all' | 'game' | 'table';
  table?: string;
  gameId: number;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A database with version A loaded (`load all replace`), closed: the template of every case. */
export async function templateWith(exportDir: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `bs_drift_tpl_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const db = openPostgres({ url: urlFor(name) });
  try {
    await migrate(db);
    const r = await load(db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(exportDir), initiatedBy: 'test:version-a' });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
  } finally {
    await db.close();
  }
  return { name, drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

export async function copyOf(template: string): Promise<{ db: Database; drop(): Promise<void> }> {
  const name = `bs_drift_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const db = openPostgres({ url: urlFor(name) });
  return {
    db,
    async drop() {
      await db.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

function requestOf(c: DriftCase, dir: string): LoadRequest {
  return {
    scope: c.scope === 'all' ? { kind: 'all' } : c.scope === 'game' ? { kind: 'category', category: 'all_facts' } : { kind: 'tables', tables: [c.table!] },
    operation: c.operation,
    ...(c.scope === 'all' ? {} : { gameId: c.gameId }),
    source: folderSource(dir),
    initiatedBy: `test:${c.kind}`,
  };
}

/** The tables a case touches. */
function tablesOfCase(c: DriftCase): string[] {
  return c.scope === 'all' ? tablesOf('all').map((t) => t.name) : c.scope === 'game' ? tablesOf('all_facts').map((t) => t.name) : [c.table!];
}

interface Catalog {
  naturalKey: string[];
  nullable: string[];
  key: string;
  types: Map<string, string>;
  aliases: Record<string, string>;
}

async function catalogOf(db: Database, table: string): Promise<Catalog> {
  const t = (
    await db.query<{ natural_key: string[]; natural_key_nullable: string[]; key: string }>(
      'SELECT coalesce(natural_key, key_columns) AS natural_key, natural_key_nullable, key_columns[1] AS key FROM warehouse_tables WHERE table_name = $1',
      [table],
    )
  ).rows[0]!;
  const cols = await db.query<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM bs_table_columns($1)', [table]);
  const aliases = await db.query<{ alias: string; column_name: string }>('SELECT alias, column_name FROM warehouse_column_aliases WHERE table_name = $1', [
    table,
  ]);
  return {
    naturalKey: t.natural_key,
    nullable: t.natural_key_nullable,
    key: t.key,
    types: new Map(cols.rows.map((c) => [c.column_name, c.column_type])),
    aliases: Object.fromEntries(aliases.rows.map((a) => [a.alias, a.column_name])),
  };
}

/** Every row of a table (in the game, for a game scope), each column as text. */
async function rowsOf(db: Database, table: string, gameId: number | null): Promise<Record<string, string | null>[]> {
  const r = await db.query<{ r: Record<string, string | null> }>(
    `SELECT (SELECT jsonb_object_agg(e.key, CASE WHEN jsonb_typeof(e.value) = 'null' THEN NULL ELSE e.value #>> '{}' END) FROM jsonb_each(to_jsonb(t)) e) AS r
     FROM ${table} t ${gameId !== null && tableNamed(table).gameColumn ? `WHERE ${tableNamed(table).gameColumn} = ${gameId}` : ''}`,
  );
  return r.rows.map((x) => x.r);
}

/** A file value as the table stores it, by the column's type now (the documented normalization). */
function normalize(value: string | undefined, type: string): string | null {
  if (value === undefined || value === '') return null;
  if (type !== 'text' && ['nan', 'NaN', 'None', 'null', 'NULL'].includes(value)) return null;
  switch (type) {
    case 'integer':
    case 'bigint':
      return value.replace(/\.0*$/, '');
    case 'numeric':
      return String(Number(value));
    case 'boolean':
      return ['true', 't', '1', 'yes'].includes(value.toLowerCase().replace(/\.0*$/, '')) ? 'true' : 'false';
    case 'timestamp without time zone':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value} 00:00:00` : value.replace('T', ' ');
    default:
      return value;
  }
}

function fromDb(value: string | null | undefined, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'numeric') return String(Number(value));
  if (type === 'timestamp without time zone') return value.replace('T', ' ');
  return value;
}

const nkOf = (row: Record<string, string | null | undefined>, c: Catalog): string | null => {
  const parts = c.naturalKey.map((k) => row[k] ?? null);
  if (c.naturalKey.some((k, i) => parts[i] === null && !c.nullable.includes(k))) return null;
  return parts.map((p) => p ?? '').join('|');
};

/** Runs one case on a copy of the template, and checks every promise above. Returns the load's result. */
export async function checkCase(template: string, versionB: string, c: DriftCase): Promise<LoadResult> {
  const copy = await copyOf(template);
  const { db } = copy;
  try {
    const tables = tablesOfCase(c);
    const gameScope = c.scope === 'all' ? null : c.gameId;
    const before = new Map<string, { cat: Catalog; rows: Record<string, string | null>[]; outside: string }>();
    for (const t of tables) {
      const cat = await catalogOf(db, t);
      before.set(t, { cat, rows: await rowsOf(db, t, gameScope), outside: await outsideChecksum(db, t, gameScope, [...cat.types.keys()]) });
    }

    // Under the table's own policies first: it loads, or it is refused naming --evolve.
    let req = requestOf(c, versionB);
    let plan = await load(db, { ...req, dryRun: true });
    let result = await load(db, req);
    if (result.status === 'failed') {
      expect(result.error?.hint ?? '', `${c.kind}: a refusal names the option that lets the file load: ${result.error?.message}`).toMatch(/--evolve/);
      expect(plan.status, `${c.kind}: the plan said it would be refused`).toBe('failed');
      expect(
        result.drift?.some((t) => t.refused),
        `${c.kind}: the refusal comes with the plan`,
      ).toBe(true);
      req = { ...req, drift: EVOLVE };
      plan = await load(db, { ...req, dryRun: true });
      result = await load(db, req);
    }
    expect(result.status, `${c.kind} ${c.operation} ${c.scope}: ${JSON.stringify(result.error)} ${result.warnings.join('; ')}`).toBe('succeeded');
    expect(plan.status, JSON.stringify(plan.error)).toBe('succeeded');

    // The plan said what the load did.
    expect(plan.tables.map(summary)).toEqual(result.tables.map(summary));

    // Every applied schema change is recorded, and nothing else.
    const recorded = await db.query<{ c: string }>(
      "SELECT table_name || ' ' || change || ' ' || coalesce(column_name, array_to_string(ARRAY(SELECT jsonb_array_elements_text(detail->'to')), ',')) AS c FROM schema_changes WHERE request_id = $1",
      [result.requestId],
    );
    expect(recorded.rows.map((x) => x.c).sort()).toEqual(result.tables.flatMap((t) => changesOf(t.drift)).sort());

    const changed = new Set(result.tables.map((t) => t.table));
    for (const table of tables) {
      if (!changed.has(table)) continue;
      const tr = result.tables.find((x) => x.table === table)!;
      const b = before.get(table)!;
      const cat = await catalogOf(db, table);
      const after = await rowsOf(db, table, gameScope);

      // No logical row twice, by the natural key the table has now.
      const seen = new Map<string, number>();
      for (const r of after) {
        const k = nkOf(r, cat);
        if (k !== null) seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      expect(
        [...seen].filter(([, n]) => n > 1),
        `${table}: a logical row twice`,
      ).toEqual([]);

      // Every cell of the file in scope is in its column, or its row is in the rejects.
      const file = readFileSync(path.join(versionB, `${table}.csv`));
      const records = parse(file, { bom: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
      const header = records[0]!.record.map((h) => columnNameFor(h));
      const names = header.map((h) => (cat.types.has(h) ? h : (cat.aliases[h] ?? h)));
      const rejected = new Set(
        (await db.query<{ line: string }>('SELECT line FROM load_rejects WHERE request_id = $1 AND table_name = $2', [result.requestId, table])).rows.map((x) =>
          Number(x.line),
        ),
      );
      const byNk = new Map(after.map((r) => [nkOf(r, cat), r]));
      const byKey = new Map(after.map((r) => [r[cat.key], r]));
      const gameAt = names.indexOf(tableNamed(table).gameColumn ?? '');
      const oldByNk = new Map(b.rows.map((o) => [nkOf(o, b.cat), o]));
      let inScope = 0;
      const problems: string[] = [];
      const absent = (tr.drift?.dropped ?? []).map((d) => d.column);
      const cells = names.filter((n) => cat.types.has(n) && !PANDAS_INDEX_NAMES.includes(n));
      for (const { record, info } of records.slice(1)) {
        if (gameScope !== null && gameAt >= 0 && normalize(record[gameAt], 'integer') !== String(gameScope)) continue;
        inScope++;
        const line = info.lines - (record.some((v) => v.includes('\n')) ? record.join('').split('\n').length - 1 : 0);
        if (rejected.has(line)) continue;
        const row: Record<string, string | null> = {};
        names.forEach((n, i) => {
          if (cat.types.has(n)) row[n] = normalize(record[i], cat.types.get(n)!);
        });
        const stored = (nkOf(row, cat) !== null ? byNk.get(nkOf(row, cat)) : undefined) ?? (row[cat.key] ? byKey.get(row[cat.key]!) : undefined);
        if (!stored) {
          problems.push(`line ${line}: neither in the table nor in the rejects`);
          continue;
        }
        for (const n of cells) {
          const v = fromDb(stored[n], cat.types.get(n)!);
          if (v !== row[n]) problems.push(`line ${line}, ${n}: file ${JSON.stringify(row[n])}, table ${JSON.stringify(v)}`);
        }
        // A column the file lacks: NULL in what a replace loaded; kept in what an upsert or merge updated.
        const oldKey = nkOf(stored, b.cat);
        const old = oldKey === null ? undefined : oldByNk.get(oldKey);
        for (const col of absent) {
          const expected = c.operation === 'replace' || !old || tr.drift?.grain ? null : fromDb(old[col], b.cat.types.get(col)!);
          const v = fromDb(stored[col], cat.types.get(col)!);
          if (v !== expected)
            problems.push(`line ${line}, ${col} (absent from the file, ${c.operation}): ${JSON.stringify(v)}, not ${JSON.stringify(expected)}`);
        }
      }
      expect(problems.slice(0, 10), `${table}: ${problems.length} cells not as the file has them`).toEqual([]);
      expect(tr.inserted + tr.updated + tr.unchanged + tr.rejected, `${table}: every row of the file in scope is accounted for`).toBe(inScope);

      // Rows of other games are as they were.
      expect(await outsideChecksum(db, table, gameScope, [...b.cat.types.keys()]), `${table}: rows out of scope`).toBe(b.outside);
    }
    return result;
  } finally {
    await copy.drop();
  }
}

/** The rows of the table outside a game scope, as a checksum over the columns it had before. */
async function outsideChecksum(db: Database, table: string, gameId: number | null, columns: string[]): Promise<string> {
  const game = tableNamed(table).gameColumn;
  if (gameId === null || !game) return '';
  const r = await db.query<{ h: string }>(
    `SELECT md5(coalesce(string_agg(row_text, E'\\n' ORDER BY row_text), '')) AS h FROM (SELECT (ROW(${columns.join(', ')}))::text AS row_text FROM ${table} WHERE ${game} <> $1) x`,
    [gameId],
  );
  return r.rows[0]!.h;
}

/** What a plan and its load must agree on, for one file. */
function summary(t: LoadResult['tables'][number]) {
  const d = t.drift;
  return {
    table: t.table,
    counts: [t.rowsInFile, t.inserted, t.updated, t.deleted, t.unchanged, t.rejected],
    added: d?.added.map((a) => `${a.column} ${a.action} ${a.type ?? ''}`),
    renamed: d?.renamed,
    dropped: d?.dropped,
    pandasIndex: d?.pandasIndex,
    key: d?.key,
    retyped: d?.retyped.map((r) => `${r.column} ${r.action} ${r.to ?? ''} ${r.rows ?? ''}`),
    rekeyed: d?.rekeyed?.rows,
    keyTaken: d?.keyTaken,
    repeats: d?.naturalKeyRepeats,
    grain: d?.grain,
  };
}

/** The schema changes a file's drift says the load applied, as schema_changes records them. */
function changesOf(d: TableDrift | undefined): string[] {
  if (!d) return [];
  return [
    ...d.added.filter((a) => a.action === 'add').map((a) => `${d.table} add_column ${a.column}`),
    ...d.retyped.filter((r) => r.action === 'widen').map((r) => `${d.table} widen_column ${r.column}`),
    ...(d.grain?.action === 'evolved' ? [`${d.table} natural_key ${d.grain.extended.join(',')}`] : []),
  ];
}
