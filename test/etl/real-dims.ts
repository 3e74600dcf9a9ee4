/**
 * Loads the dimension CSVs of the real export for ETL tests: COPY into an all-text temp
 * table, then one INSERT with casts (pandas' `1730.0` integers lose their `.0`). Columns
 * map header → name by the warehouse's one rule (columnNameFor).
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../../loader/db/database';
import { columnNameFor, tableNamed } from '../../loader/warehouse';

function castExpr(col: string, type: string): string {
  if (type === 'text') return `nullif(${col}, '')`;
  if (type === 'integer' || type === 'bigint') return `nullif(regexp_replace(${col}, '\\.0+$', ''), '')::${type}`;
  return `nullif(${col}, '')::${type}`;
}

export async function loadDimsFromCsv(db: Database, csvDir: string, tables = ['dim_player', 'dim_team', 'dim_schedule']): Promise<void> {
  for (const table of tables) {
    const file = path.join(csvDir, `${table}.csv`);
    const header = readFileSync(file, 'utf8').split(/\r?\n/, 1)[0]!.split(',');
    const decl = tableNamed(table);
    const cols = header.map(columnNameFor);
    const casts = cols.map((c) => {
      const col = decl.columns.find((x) => x.name === c);
      if (!col) throw new Error(`${file}: column ${c} is not in ${table}`);
      return castExpr(c, col.type);
    });
    await db.transaction(async (tx) => {
      await tx.query(`CREATE TEMP TABLE raw_dim (${cols.map((c) => `${c} text`).join(', ')}) ON COMMIT DROP`);
      await tx.copyFrom('COPY raw_dim FROM STDIN WITH (FORMAT csv, HEADER true)', createReadStream(file));
      await tx.query(`INSERT INTO ${table} (${cols.join(', ')}) SELECT ${casts.join(', ')} FROM raw_dim`);
    });
  }
}
