/**
 * The declaration against a database (`benchsight schema diff`): what a load changed that the
 * code does not say yet (columns added, columns widened, a natural key extended: the lines to
 * put in loader/warehouse/tables/), and what the code says that the database lacks (the
 * migration to write). Loads evolve the database and record it (schema_changes); this keeps the
 * declaration the truth, so that the next deploy neither undoes nor fights a change.
 */
import { COLUMN_TYPES, type ColumnType, type TableDecl } from './define';
import { WAREHOUSE } from './index';
import { catalogKeysSql, hasOwnNaturalKey, naturalKeyIndexColumns, naturalKeyIndexName } from './schema-sql';

/** A table as the database has it (loader/commands/schema.ts reads it). */
export interface DbTable {
  name: string;
  /** In column order. `type` as format_type writes it. */
  columns: { name: string; type: string; header: string }[];
  naturalKey: string[];
  naturalKeyNullable: string[];
  keyRule: string | null;
  aliases: Record<string, string>;
  /** Its natural-key index is there (tables whose natural key is not the primary key). */
  naturalKeyIndex: boolean;
}

/** A schema change a load recorded. */
export interface RecordedChange {
  table: string;
  change: 'add_column' | 'widen_column' | 'natural_key';
  column: string | null;
  newType: string | null;
  to?: string[];
}

export interface SchemaDiff {
  /** Lines to put in the declaration, per table. */
  declaration: { table: string; file: string; lines: string[] }[];
  /** The SQL of a new migration. */
  migration: string[];
  nextMigration: string;
}

const FILES: Record<TableDecl['category'], string> = {
  dims: 'loader/warehouse/tables/dims.ts',
  core_facts: 'loader/warehouse/tables/core-facts.ts',
  stats_facts: 'loader/warehouse/tables/stats-facts.ts',
  analytics_facts: 'loader/warehouse/tables/analytics-facts.ts',
};

/** The declaration's word for a type as the database writes it. */
export function declaredType(dbType: string): ColumnType | string {
  const t = dbType.replace(/ without time zone$/, '');
  return (COLUMN_TYPES as readonly string[]).includes(t) ? t : dbType;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const list = (xs: string[]) => `[${xs.map(lit).join(', ')}]`;

export function schemaDiff(db: DbTable[], changes: RecordedChange[], nextMigration: string, declared: readonly TableDecl[] = WAREHOUSE): SchemaDiff {
  const declaration: SchemaDiff['declaration'] = [];
  const migration: string[] = [];
  for (const d of declared) {
    const t = db.find((x) => x.name === d.name);
    if (!t) {
      migration.push(`-- ${d.name} is declared and not in the database: its CREATE TABLE (npm run schema:generate prints every table's)`);
      continue;
    }
    const lines: string[] = [];
    const mine = changes.filter((c) => c.table === d.name);
    const byName = new Map(t.columns.map((c) => [c.name, c]));
    const declaredCols = new Set(d.columns.map((c) => c.name));
    // Columns the database has and the declaration lacks (a load added them).
    const added = t.columns.filter((c) => !declaredCols.has(c.name));
    if (added.length) {
      lines.push('add to its columns block (a load added them):');
      const width = Math.max(...added.map((c) => c.header.length));
      for (const c of added) lines.push(`  ${c.header.padEnd(width)} ${declaredType(c.type)}`);
    }
    for (const c of d.columns) {
      const now = byName.get(c.name);
      if (!now) {
        migration.push(
          `ALTER TABLE ${d.name} ADD COLUMN ${c.name} ${c.type}${c.notNull ? ' NOT NULL' : ''};`,
          `INSERT INTO warehouse_columns (table_name, position, header, column_name, column_type, not_null) SELECT ${lit(d.name)}, coalesce(max(position), 0) + 1, ${lit(c.header)}, ${lit(c.name)}, ${lit(c.type)}, ${c.notNull} FROM warehouse_columns WHERE table_name = ${lit(d.name)};`,
        );
        continue;
      }
      const type = declaredType(now.type);
      if (type === c.type) continue;
      const widened = mine.some((x) => x.change === 'widen_column' && x.column === c.name && x.newType === now.type);
      if (widened) lines.push(`change the type of ${c.header} (a load widened it): ${c.header} ${c.type} → ${c.header} ${type}`);
      else
        migration.push(
          `ALTER TABLE ${d.name} ALTER COLUMN ${c.name} TYPE ${c.type} USING ${c.name}::${c.type};`,
          `UPDATE warehouse_columns SET column_type = ${lit(c.type)} WHERE table_name = ${lit(d.name)} AND column_name = ${lit(c.name)};`,
        );
    }
    // The natural key: evolved by a load (recorded), or changed in the code.
    const nk = (xs: string[], nullable: string[]) => xs.map((c) => (nullable.includes(c) ? `${c}?` : c));
    const same = t.naturalKey.join() === d.naturalKey.join() && t.naturalKeyNullable.join() === d.naturalKeyNullable.join();
    const evolved = [...mine].reverse().find((x) => x.change === 'natural_key');
    if (!same && evolved?.to?.join() === t.naturalKey.join()) {
      lines.push(`naturalKey: ${list(nk(t.naturalKey, t.naturalKeyNullable))},  (a load extended it: the grain got finer)`);
    }
    const keysChanged = (!same && evolved?.to?.join() !== t.naturalKey.join()) || (t.keyRule ?? null) !== d.keyRule;
    const aliasMissing = Object.entries(d.aliases).filter(([a, c]) => t.aliases[a] !== c);
    const aliasExtra = Object.entries(t.aliases).filter(([a]) => d.aliases[a] === undefined);
    if (aliasExtra.length) lines.push(`aliases: { ${aliasExtra.map(([a, c]) => `${a}: ${lit(c)}`).join(', ')} },  (in the catalog only)`);
    if (keysChanged || aliasMissing.length) {
      migration.push(`DELETE FROM warehouse_column_aliases WHERE table_name = ${lit(d.name)};`, catalogKeysSql(d));
    }
    if (hasOwnNaturalKey(d) && (keysChanged || !t.naturalKeyIndex)) {
      const name = naturalKeyIndexName(d.name);
      migration.push(`DROP INDEX IF EXISTS ${name};`, `CREATE UNIQUE INDEX ${name} ON ${d.name} (${naturalKeyIndexColumns(d)});`);
    }
    if (lines.length) declaration.push({ table: d.name, file: FILES[d.category], lines });
  }
  return { declaration, migration, nextMigration };
}
