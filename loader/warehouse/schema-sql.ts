/**
 * Renders the warehouse declaration as SQL: the tables, their keys and indexes, and
 * the catalog tables through which the database's own functions (load_table,
 * delete_game, check_relations ...) read the same declaration.
 */
import { RELATIONS, WAREHOUSE, type TableDecl } from './index';

const lit = (s: string | null) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);

/**
 * Text keys and the columns that point to them are codes (`EV1896901000`, `P100001`):
 * they sort and compare byte by byte (COLLATE "C"), which keeps their indexes fast.
 */
function isCode(t: TableDecl, column: string): boolean {
  return t.key.includes(column) || RELATIONS.some((r) => (r.table === t.name && r.column === column) || (r.parent === t.name && r.parentColumn === column));
}

function createTable(t: TableDecl): string {
  const cols = t.columns.map((c) => `  ${c.name} ${c.type}${c.type === 'text' && isCode(t, c.name) ? ' COLLATE "C"' : ''}${c.notNull ? ' NOT NULL' : ''}`);
  cols.push(`  CONSTRAINT ${t.name}_pkey PRIMARY KEY (${t.key.join(', ')})`);
  const lines = [`CREATE TABLE ${t.name} (\n${cols.join(',\n')}\n);`];
  if (t.gameColumn && !(t.key.length === 1 && t.key[0] === t.gameColumn)) {
    lines.push(`CREATE INDEX ${t.name}_${t.gameColumn}_idx ON ${t.name} (${t.gameColumn});`);
  }
  for (const r of RELATIONS.filter((x) => x.table === t.name && x.parent.startsWith('fact_'))) {
    lines.push(`CREATE INDEX ${t.name}_${r.column}_idx ON ${t.name} (${r.column});`);
  }
  lines.push(`COMMENT ON TABLE ${t.name} IS ${lit(`BenchSight ${t.category}; key ${t.key.join(', ')}`)};`);
  for (const c of t.columns.filter((x) => x.header !== x.name)) {
    lines.push(`COMMENT ON COLUMN ${t.name}.${c.name} IS ${lit(`export header: ${c.header}`)};`);
  }
  return lines.join('\n');
}

function catalog(): string {
  const tables = WAREHOUSE.map(
    (t, i) => `  (${lit(t.name)}, ${lit(t.category)}, ${i + 1}, ARRAY[${t.key.map(lit).join(', ')}]::text[], ${lit(t.gameColumn)}, ${lit(t.defaultOperation)})`,
  );
  const columns = WAREHOUSE.flatMap((t) =>
    t.columns.map((c, i) => `  (${lit(t.name)}, ${i + 1}, ${lit(c.header)}, ${lit(c.name)}, ${lit(c.type)}, ${c.notNull})`),
  );
  const relations = RELATIONS.map((r) => `  (${lit(r.table)}, ${lit(r.column)}, ${lit(r.parent)}, ${lit(r.parentColumn)})`);
  return `-- The catalog: the same declaration, readable by SQL.
CREATE TABLE warehouse_tables (
  table_name text PRIMARY KEY,
  category text NOT NULL,
  load_order integer NOT NULL UNIQUE,
  key_columns text[] NOT NULL,
  game_column text,
  default_operation text NOT NULL
);
CREATE TABLE warehouse_columns (
  table_name text NOT NULL REFERENCES warehouse_tables,
  position integer NOT NULL,
  header text NOT NULL,
  column_name text NOT NULL,
  column_type text NOT NULL,
  not_null boolean NOT NULL,
  PRIMARY KEY (table_name, column_name)
);
CREATE TABLE warehouse_relations (
  table_name text NOT NULL REFERENCES warehouse_tables,
  column_name text NOT NULL,
  parent_table text NOT NULL REFERENCES warehouse_tables,
  parent_column text NOT NULL,
  PRIMARY KEY (table_name, column_name)
);
INSERT INTO warehouse_tables (table_name, category, load_order, key_columns, game_column, default_operation) VALUES
${tables.join(',\n')};
INSERT INTO warehouse_columns (table_name, position, header, column_name, column_type, not_null) VALUES
${columns.join(',\n')};
INSERT INTO warehouse_relations (table_name, column_name, parent_table, parent_column) VALUES
${relations.join(',\n')};`;
}

const textArray = (xs: string[]) => (xs.length ? `ARRAY[${xs.map(lit).join(', ')}]::text[]` : `'{}'::text[]`);

/** The name of the unique index that holds a table to its natural key. */
export function naturalKeyIndexName(table: string): string {
  return `${table}_natural_key`;
}

/**
 * The natural key as a unique index lists it: a part that may be empty as coalesce(part,
 * ''), so that an empty one matches an empty one; a row with another part empty is not in
 * conflict with anything (NULLs are distinct), and has no natural key.
 */
export function naturalKeyIndexColumns(t: Pick<TableDecl, 'naturalKey' | 'naturalKeyNullable'>): string {
  return t.naturalKey.map((c) => (t.naturalKeyNullable.includes(c) ? `coalesce(${c}, '')` : c)).join(', ');
}

/** A table's natural key needs an index of its own when it is not the primary key. */
export function hasOwnNaturalKey(t: Pick<TableDecl, 'key' | 'naturalKey'>): boolean {
  return t.key.join(',') !== t.naturalKey.join(',');
}

/** The catalog rows that say a table's natural key, key rule and aliases (sql/migrations/000014_exports_that_change.sql). */
export function catalogKeysSql(t: TableDecl): string {
  const lines = [
    `UPDATE warehouse_tables SET natural_key = ${textArray(t.naturalKey)}, natural_key_nullable = ${textArray(t.naturalKeyNullable)}, key_rule = ${lit(t.keyRule)} WHERE table_name = ${lit(t.name)};`,
  ];
  const aliases = Object.entries(t.aliases);
  if (aliases.length) {
    lines.push(
      `INSERT INTO warehouse_column_aliases (table_name, alias, column_name) VALUES ${aliases.map(([a, c]) => `(${lit(t.name)}, ${lit(a)}, ${lit(c)})`).join(', ')};`,
    );
  }
  return lines.join('\n');
}

export function warehouseSchemaSql(): string {
  return [
    '-- GENERATED from loader/warehouse (npm run schema:generate). Do not edit by hand:\n-- change the declaration and add a new migration instead.',
    ...WAREHOUSE.map(createTable),
    catalog(),
    '',
  ].join('\n\n');
}
