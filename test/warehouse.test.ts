import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnNameFor, RELATIONS, tableNamed, TABLE_NAMES, WAREHOUSE } from '../loader/warehouse';
import { freshDatabase, type TestDatabase } from './support/database';
import { hasRealData, REAL_CSV } from './support/real-data';

describe('the header → column rule', () => {
  it.each([
    ['Type', 'type'],
    ['Period', 'period'],
    ['home_team_periodOT_goals', 'home_team_periodot_goals'],
    ['2on1_rushes', '_2on1_rushes'],
    ['3on2_rushes', '_3on2_rushes'],
    ['index', 'index'],
    ['shot %', 'shot__'],
  ])('%s → %s', (header, name) => {
    expect(columnNameFor(header)).toBe(name);
  });
});

describe('the warehouse declaration', () => {
  it('has the 12 tables with the column counts of the real export', () => {
    expect(Object.fromEntries(WAREHOUSE.map((t) => [t.name, t.columns.length]))).toEqual({
      dim_player: 28,
      dim_team: 15,
      dim_schedule: 44,
      fact_shifts: 63,
      fact_events: 54,
      fact_events_player: 63,
      fact_shifts_player: 35,
      fact_player_game_stats: 317,
      fact_team_game_stats: 52,
      fact_goalie_game_stats: 19,
      fact_h2h: 24,
      fact_wowy: 28,
    });
  });

  it('orders tables so that every parent loads before its children', () => {
    for (const r of RELATIONS) {
      if (r.parent === r.table) continue;
      expect(TABLE_NAMES.indexOf(r.parent), `${r.table}.${r.column} → ${r.parent}`).toBeLessThan(TABLE_NAMES.indexOf(r.table));
    }
  });
});

describe('the migrated database matches the declaration', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase({ migrated: true });
  });
  afterAll(async () => t?.drop());

  it('has every declared column with its type, nullability and key', async () => {
    const cols = await t.db.query<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(
      `
      SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = ANY($1) ORDER BY table_name, ordinal_position`,
      [TABLE_NAMES],
    );
    const udt: Record<string, string> = {
      text: 'text',
      integer: 'int4',
      bigint: 'int8',
      numeric: 'numeric',
      boolean: 'bool',
      date: 'date',
      timestamp: 'timestamp',
      time: 'time',
    };
    for (const table of WAREHOUSE) {
      const actual = cols.rows.filter((c) => c.table_name === table.name).map((c) => `${c.column_name}:${c.udt_name}:${c.is_nullable}`);
      const declared = table.columns.map((c) => `${c.name}:${udt[c.type]}:${c.notNull ? 'NO' : 'YES'}`);
      expect(actual, table.name).toEqual(declared);
    }
    const keys = await t.db.query<{ table_name: string; cols: string }>(
      `
      SELECT tc.table_name, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS cols
      FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
      WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_name = ANY($1) GROUP BY tc.table_name`,
      [TABLE_NAMES],
    );
    for (const table of WAREHOUSE) expect(keys.rows.find((k) => k.table_name === table.name)?.cols).toBe(table.key.join(','));
  });

  it('indexes game_id on every fact table', async () => {
    const r = await t.db.query<{ tablename: string }>(`SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%(game_id)'`);
    const indexed = new Set(r.rows.map((x) => x.tablename));
    for (const table of WAREHOUSE.filter((x) => x.category !== 'dims')) expect(indexed.has(table.name), table.name).toBe(true);
  });

  it('has the same declaration in its catalog tables', async () => {
    const tables = await t.db.query<{ table_name: string; category: string; key_columns: string[]; game_column: string | null; default_operation: string }>(
      'SELECT table_name, category, key_columns, game_column, default_operation FROM warehouse_tables ORDER BY load_order',
    );
    expect(tables.rows).toEqual(
      WAREHOUSE.map((x) => ({
        table_name: x.name,
        category: x.category,
        key_columns: x.key,
        game_column: x.gameColumn,
        default_operation: x.defaultOperation,
      })),
    );
    const columns = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM warehouse_columns');
    expect(Number(columns.rows[0]!.n)).toBe(WAREHOUSE.reduce((n, x) => n + x.columns.length, 0));
    const rel = await t.db.query<{ r: string }>("SELECT table_name || '.' || column_name || '->' || parent_table AS r FROM warehouse_relations");
    expect(rel.rows.map((x) => x.r).sort()).toEqual(RELATIONS.map((r) => `${r.table}.${r.column}->${r.parent}`).sort());
  });

  it('has the support tables: staging, queue, history and rejects', async () => {
    const r = await t.db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'`);
    const names = r.rows.map((x) => x.t);
    for (const n of ['staging_events', 'staging_shifts', 'staging_games', 'etl_queue', 'load_history', 'load_rejects', 'schema_migrations'])
      expect(names).toContain(n);
  });
});

describe.skipIf(!hasRealData)('the real export (../shared/data)', () => {
  const files = hasRealData
    ? readdirSync(REAL_CSV)
        .filter((f) => f.endsWith('.csv'))
        .sort()
    : [];

  it('has one file for each of the 12 tables', () => {
    expect(files.map((f) => f.replace(/\.csv$/, ''))).toEqual([...TABLE_NAMES].sort());
  });

  it.each(files)('%s: every header maps to exactly one column of its table', (file) => {
    const table = tableNamed(file.replace(/\.csv$/, ''));
    const [headers] = parse(readFileSync(path.join(REAL_CSV, file)), { to_line: 1, bom: true }) as string[][];
    const names = headers!.map(columnNameFor);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names)
      expect(
        table.columns.filter((c) => c.name === name),
        `${file}: ${name}`,
      ).toHaveLength(1);
    expect(names.sort()).toEqual(table.columns.map((c) => c.name).sort());
  });
});
