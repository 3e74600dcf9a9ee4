/**
 * The real BenchSight export (../shared/data): `load all replace` must account for
 * every row, put the export's known dirt in the rejects, and store every cell exactly
 * as the file has it, after the documented normalization.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load, type LoadResult } from '../../loader/engine';
import { WAREHOUSE, type ColumnDecl } from '../../loader/warehouse';
import { freshDatabase, type TestDatabase } from '../support/database';
import { hasRealData, REAL_CSV } from '../support/real-data';

/** The documented normalization: empty → NULL, `1730.0` → 1730, `True` → true. */
function normalize(value: string, type: ColumnDecl['type']): string | null {
  if (value === '' || (type !== 'text' && ['nan', 'NaN', 'None', 'null', 'NULL'].includes(value))) return null;
  switch (type) {
    case 'integer':
    case 'bigint':
      return value.replace(/\.0*$/, '');
    case 'numeric': {
      // PostgreSQL's numeric has no negative zero: -0.0 is stored as 0.
      const v = value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
      return v === '-0' ? '0' : v;
    }
    case 'boolean':
      return ['true', 't', '1'].includes(value.toLowerCase().replace(/\.0*$/, '')) ? 'true' : 'false';
    default:
      return value;
  }
}

function fromDb(value: unknown, type: ColumnDecl['type']): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  return type === 'numeric' && s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

describe.skipIf(!hasRealData)('load all replace of the real export', () => {
  let t: TestDatabase;
  let result: LoadResult;
  beforeAll(async () => {
    t = await freshDatabase({ migrated: true });
    result = await load(t.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(REAL_CSV), initiatedBy: 'test' });
  });
  afterAll(async () => t?.drop());

  it('succeeds, and for every table inserted + rejected = rows in the file', () => {
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.tables).toHaveLength(12);
    for (const tr of result.tables) {
      const lines = readFileSync(path.join(REAL_CSV, `${tr.table}.csv`), 'utf8');
      const records = (parse(lines, { bom: true, from_line: 2 }) as string[][]).length;
      expect(tr.rowsInFile, tr.table).toBe(records);
      expect(tr.inserted + tr.rejected, tr.table).toBe(tr.rowsInFile);
    }
    expect(result.tables.reduce((n, x) => n + x.rowsInFile, 0)).toBe(25139);
  });

  it('puts the duplicate EV1896901594 and the 454 orphan event keys in the rejects, with their reasons', async () => {
    const dup = await t.db.query<{ line: string; reason: string; detail: string }>(
      "SELECT line, reason, detail FROM load_rejects WHERE table_name = 'fact_events' AND row_data->>'event_key' = 'EV1896901594'",
    );
    expect(dup.rows).toHaveLength(1);
    expect(dup.rows[0]!.reason).toBe('duplicate_key');
    expect(dup.rows[0]!.detail).toMatch(/key EV1896901594 appears again \(first on line \d+\)/);

    const orphans = await t.db.query<{ key: string; n: string }>(
      "SELECT row_data->>'event_key' AS key, count(*) AS n FROM load_rejects WHERE table_name = 'fact_events_player' AND reason = 'orphan' GROUP BY 1 ORDER BY 2 DESC",
    );
    expect(orphans.rows.reduce((n, r) => n + Number(r.n), 0)).toBe(454);
    expect(orphans.rows[0]).toEqual({ key: 'EV1896900000', n: '453' });
    const detail = await t.db.query<{ detail: string }>("SELECT detail FROM load_rejects WHERE table_name = 'fact_events_player' LIMIT 1");
    expect(detail.rows[0]!.detail).toMatch(/event_key EV\d+ is not in fact_events\.event_key/);
    const fep = result.tables.find((x) => x.table === 'fact_events_player')!;
    expect(fep.rejectedByReason).toEqual({ orphan: 454 });
  });

  it.each(WAREHOUSE.map((d) => d.name))('%s: every loaded cell equals the file value after normalization', async (table) => {
    const decl = WAREHOUSE.find((d) => d.name === table)!;
    const records = parse(readFileSync(path.join(REAL_CSV, `${table}.csv`)), { bom: true, columns: true }) as Record<string, string>[];
    const rejected = await t.db.query<{ line: string }>('SELECT line FROM load_rejects WHERE table_name = $1', [table]);
    const rejectedLines = new Set(rejected.rows.map((r) => Number(r.line)));
    // Records are numbered by line; the real export has no multi-line fields.
    const expected = records.filter((_, i) => !rejectedLines.has(i + 2));
    const key = decl.key[0]!;
    const keyCol = decl.columns.find((c) => c.name === key)!;
    const db = await t.db.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
    const byKey = new Map(db.rows.map((r) => [fromDb(r[key], keyCol.type), r]));
    expect(db.rows.length).toBe(expected.length);
    let cells = 0;
    const mismatches: string[] = [];
    for (const rec of expected) {
      const row = byKey.get(normalize(rec[keyCol.header]!, keyCol.type));
      if (!row) {
        mismatches.push(`${rec[keyCol.header]}: missing`);
        continue;
      }
      for (const c of decl.columns) {
        const got = fromDb(row[c.name], c.type);
        const want = normalize(rec[c.header]!, c.type);
        if (got !== want) mismatches.push(`${rec[keyCol.header]} ${c.header}: file ${JSON.stringify(want)}, database ${JSON.stringify(got)}`);
        cells++;
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(cells).toBe(expected.length * decl.columns.length);
  });
});
