/**
 * The declaration of the columns the live ETL computes (loader/etl/live-columns.ts) says what
 * the SQL does: each table's INSERT in sql/functions/etl_*_facts.sql names exactly those
 * columns, and each is a column of the warehouse table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIVE_COLUMNS, LIVE_ETL_TABLES, liveColumns } from '../../loader/etl/live-columns';
import { tableNamed } from '../../loader/warehouse';

const FUNCTIONS = path.resolve(__dirname, '../../sql/functions');

/** table → the columns its INSERT in the ETL's SQL names. */
function insertedColumns(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of readdirSync(FUNCTIONS).filter((n) => /^etl_.*_facts\.sql$/.test(n))) {
    const sql = readFileSync(path.join(FUNCTIONS, f), 'utf8').replace(/--[^\n]*/g, '');
    for (const m of sql.matchAll(/INSERT INTO (\w+) \(([^)]*)\)\s*(?:SELECT|WITH|VALUES)/g)) {
      out.set(
        m[1]!,
        m[2]!.split(',').map((c) => c.trim()),
      );
    }
  }
  return out;
}

describe('the live ETL’s columns', () => {
  it('are the columns its SQL inserts, table by table', () => {
    const inserted = insertedColumns();
    expect([...inserted.keys()].sort()).toEqual([...LIVE_ETL_TABLES].sort());
    expect(Object.keys(LIVE_COLUMNS).sort()).toEqual([...LIVE_ETL_TABLES].sort());
    for (const table of LIVE_ETL_TABLES) expect([...liveColumns(table)].sort(), table).toEqual([...inserted.get(table)!].sort());
  });

  it('are columns of the warehouse tables', () => {
    for (const table of LIVE_ETL_TABLES) {
      const cols = new Set(tableNamed(table).columns.map((c) => c.name));
      for (const c of liveColumns(table)) expect(cols.has(c), `${table}.${c}`).toBe(true);
    }
  });
});
