import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnNameFor, columns, defineTable, RELATIONS, tableNamed, TABLE_NAMES, WAREHOUSE } from '../loader/warehouse';
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

  it('has an index led by game_id on every fact table (its natural key)', async () => {
    const r = await t.db.query<{ tablename: string }>(`SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%(game_id)' OR indexdef LIKE '%(game_id, %'`);
    const indexed = new Set(r.rows.map((x) => x.tablename));
    for (const table of WAREHOUSE.filter((x) => x.category !== 'dims')) expect(indexed.has(table.name), table.name).toBe(true);
  });

  it('holds every table to its natural key with a unique index, and has the natural keys, key rules and aliases in its catalog', async () => {
    const idx = await t.db.query<{ tablename: string; indexname: string; indexdef: string }>(
      `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%\\_natural\\_key'`,
    );
    for (const table of WAREHOUSE) {
      const own = table.key.join(',') !== table.naturalKey.join(',');
      const i = idx.rows.find((x) => x.tablename === table.name);
      if (!own) {
        expect(i, table.name).toBeUndefined();
        continue;
      }
      expect(i?.indexdef, table.name).toMatch(/^CREATE UNIQUE INDEX/);
      for (const c of table.naturalKey) expect(i!.indexdef, `${table.name}.${c}`).toContain(c);
    }
    const cat = await t.db.query<{ table_name: string; natural_key: string[]; natural_key_nullable: string[]; key_rule: string | null }>(
      'SELECT table_name, natural_key, natural_key_nullable, key_rule FROM warehouse_tables ORDER BY load_order',
    );
    expect(cat.rows).toEqual(
      WAREHOUSE.map((x) => ({ table_name: x.name, natural_key: x.naturalKey, natural_key_nullable: x.naturalKeyNullable, key_rule: x.keyRule })),
    );
    const aliases = await t.db.query<{ a: string }>("SELECT table_name || '.' || alias || '->' || column_name AS a FROM warehouse_column_aliases");
    expect(aliases.rows.map((x) => x.a).sort()).toEqual(WAREHOUSE.flatMap((x) => Object.entries(x.aliases).map(([a, c]) => `${x.name}.${a}->${c}`)).sort());
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

  it.each(files)('%s: no two rows share a natural key', (file) => {
    const table = tableNamed(file.replace(/\.csv$/, ''));
    const rows = parse(readFileSync(path.join(REAL_CSV, file)), { bom: true, columns: (h: string[]) => h.map(columnNameFor) }) as Record<string, string>[];
    const required = table.naturalKey.filter((c) => !table.naturalKeyNullable.includes(c));
    // A row with a part of its natural key empty (other than one that may be) has none; an
    // empty part that may be empty matches an empty one. pandas' `1594.0` is 1594.
    const keyed = rows.filter((r) => required.every((c) => r[c] !== ''));
    const keys = keyed.map((r) => table.naturalKey.map((c) => (r[c] ?? '').replace(/\.0$/, '')).join('|'));
    const seen = new Map<string, number>();
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
    // Rows without a natural key are the export's known dirt: the 454 event-player rows that
    // point at events that are not there (EV1896900000, EV1898700000), and two events
    // without an index (one of them the repeated key EV1896901594).
    const without = rows.length - keyed.length;
    expect(without, file).toBe({ 'fact_events.csv': 2, 'fact_events_player.csv': 454 }[file] ?? 0);
  });

  it('keys events and shifts as their key rules derive them', () => {
    for (const name of ['fact_events', 'fact_shifts']) {
      const table = tableNamed(name);
      const rows = parse(readFileSync(path.join(REAL_CSV, `${name}.csv`)), { bom: true, columns: (h: string[]) => h.map(columnNameFor) }) as Record<
        string,
        string
      >[];
      const derive = (r: Record<string, string>) =>
        table.keyRule!.replace(/\{([a-z_0-9]+)(?::0(\d+))?\}/g, (_, c: string, pad?: string) => {
          const v = (r[c] ?? '').replace(/\.0$/, '');
          return pad ? v.padStart(Number(pad), '0') : v;
        });
      const keyed = rows.filter((r) => table.naturalKey.every((c) => r[c] !== ''));
      expect(keyed.filter((r) => derive(r) !== r[table.key[0]!]).map((r) => r[table.key[0]!])).toEqual([]);
    }
  });
});

describe('natural keys of the declaration', () => {
  it('every table has one, and a table whose key is a surrogate says how to derive it from the natural key', () => {
    for (const t of WAREHOUSE) {
      expect(t.naturalKey.length, t.name).toBeGreaterThan(0);
      if (t.key.join() !== t.naturalKey.join()) expect(t.keyRule, t.name).toMatch(/\{game_id\}/);
      if (t.gameColumn) expect(t.naturalKey[0], t.name).toBe(t.gameColumn);
    }
  });

  it('refuses a key rule that names a column outside the natural key, and an alias of no column', () => {
    const base = { name: 'x', category: 'core_facts' as const, key: ['k'], gameColumn: 'game_id', defaultOperation: 'upsert' as const };
    const cols = columns`
      k        text not null
      game_id  integer not null
      n        integer
    `;
    expect(() => defineTable({ ...base, naturalKey: ['game_id', 'n'], keyRule: 'X{game_id}{k}', columns: cols })).toThrow(/not in the natural key/);
    expect(() => defineTable({ ...base, naturalKey: ['game_id', 'n'], columns: cols })).toThrow(/needs a key rule/);
    expect(() => defineTable({ ...base, naturalKey: ['game_id', 'n'], keyRule: 'X{game_id}', aliases: { old: 'nope' }, columns: cols })).toThrow(
      /names no column/,
    );
    expect(defineTable({ ...base, naturalKey: ['game_id', 'n'], keyRule: 'X{game_id}', aliases: { 'Old Name': 'n' }, columns: cols }).aliases).toEqual({
      old_name: 'n',
    });
  });
});
