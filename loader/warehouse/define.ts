import { columnNameFor, isPlainIdentifier } from './naming';

export const CATEGORIES = ['dims', 'core_facts', 'stats_facts', 'analytics_facts'] as const;
export type Category = (typeof CATEGORIES)[number];

export const OPERATIONS = ['replace', 'append', 'upsert', 'merge'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** SQL types a warehouse column may have. */
export const COLUMN_TYPES = ['text', 'integer', 'bigint', 'numeric', 'boolean', 'date', 'timestamp', 'time'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnDecl {
  /** The header as the ETL writes it (`Type`, `2on1_rushes`). */
  header: string;
  /** The column name in the database (`type`, `_2on1_rushes`), by `columnNameFor`. */
  name: string;
  type: ColumnType;
  notNull: boolean;
}

/** What a load does with a column of the file that its table lacks. */
export const NEW_COLUMN_POLICIES = ['refuse', 'add', 'ignore'] as const;
export type NewColumnPolicy = (typeof NEW_COLUMN_POLICIES)[number];
/** What a load does with a value that no longer fits its column's type (`12.5` in an integer column). */
export const MISFIT_POLICIES = ['refuse', 'widen', 'reject'] as const;
export type MisfitPolicy = (typeof MISFIT_POLICIES)[number];
/** What a load does when the file's rows repeat the table's natural key and new columns of the file tell them apart (the grain changed). */
/** The kinds of change a later version of the export makes (the generator writes each: loader/generate/drift.ts). */
export const DRIFT_KINDS = [
  'columns-added',
  'columns-dropped',
  'key-dropped',
  'renamed',
  'index-leaked',
  'second-key',
  'key-format',
  'grain',
  'retyped',
] as const;

export const GRAIN_POLICIES = ['refuse', 'evolve'] as const;
export type GrainPolicy = (typeof GRAIN_POLICIES)[number];

/**
 * How a table takes a changed export (sql/README.md, "Exports that change"). Columns of the
 * table that the file lacks are no policy: a replace leaves them NULL, an upsert or merge
 * keeps what the rows had (only the file's columns are written).
 */
export interface DriftPolicy {
  newColumns: NewColumnPolicy;
  misfits: MisfitPolicy;
  grain: GrainPolicy;
}

/**
 * The defaults, by category. Dimensions and the core facts are the contract the dashboards
 * and the ETL's own joins rely on: a change there is refused until someone says so (the
 * refusal names the option). The stats and analytics facts are wide tables of measures that
 * every ETL version reshapes: new measures are added and an integer measure that turns
 * fractional is widened, each recorded as a schema change. A changed grain is always
 * refused by default: it changes what a row means.
 */
export const DRIFT_DEFAULTS: Record<Category, DriftPolicy> = {
  dims: { newColumns: 'refuse', misfits: 'refuse', grain: 'refuse' },
  core_facts: { newColumns: 'refuse', misfits: 'refuse', grain: 'refuse' },
  stats_facts: { newColumns: 'add', misfits: 'widen', grain: 'refuse' },
  analytics_facts: { newColumns: 'add', misfits: 'widen', grain: 'refuse' },
};

/** `--evolve`: every change the file brings is applied (and recorded). */
export const EVOLVE: DriftPolicy = { newColumns: 'add', misfits: 'widen', grain: 'evolve' };

export interface TableInput {
  name: string;
  category: Category;
  /** Primary key columns: the surrogate key the ETL writes (`h2h_key`), or the identity itself (`player_id`). */
  key: string[];
  /**
   * The row's logical identity, whatever its surrogate key looks like (h2h: game + player 1 +
   * player 2). A column written `player_role?` may be empty, and then matches an empty one;
   * a row with any other part empty has no natural key (it is matched by its key alone).
   */
  naturalKey: string[];
  /**
   * How the surrogate key is derived when a file has no key column: `{column}` is the
   * column's value, `{column:05}` a number padded to 5 digits; natural-key columns the rule
   * does not name follow as `_value`. Only for a key that is not itself the natural key.
   */
  keyRule?: string;
  /** Other names of a column, as an export has written them (`game_date_str` → `date`): a file's column of that name lands in the column. */
  aliases?: Record<string, string>;
  /** The table's drift policy, over its category's defaults (DRIFT_DEFAULTS). */
  drift?: Partial<DriftPolicy>;
  /** The column that holds the game id, when the table can be scoped to one game. */
  gameColumn: string | null;
  defaultOperation: Operation;
  columns: ColumnDecl[];
}

export interface TableDecl extends Omit<TableInput, 'naturalKey' | 'aliases' | 'drift' | 'keyRule'> {
  /** The natural key's columns (without the `?`). */
  naturalKey: string[];
  /** The natural-key columns that may be empty. */
  naturalKeyNullable: string[];
  keyRule: string | null;
  /** alias (a column name, by the header rule) → the column it means */
  aliases: Record<string, string>;
  drift: DriftPolicy;
}

/**
 * Parses a column block: one column a line, `<export header> <type> [not null]`.
 * Kept as text so that 317 columns read like the export they come from.
 */
export function columns(strings: TemplateStringsArray): ColumnDecl[] {
  const text = strings.join('');
  const out: ColumnDecl[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\S+)(\s+not null)?$/.exec(line);
    if (!m) throw new Error(`warehouse declaration: cannot read column line "${line}"`);
    const [, header, type, notNull] = m as unknown as [string, string, string, string | undefined];
    if (!(COLUMN_TYPES as readonly string[]).includes(type)) {
      throw new Error(`warehouse declaration: column "${header}" has unknown type "${type}"`);
    }
    out.push({ header, name: columnNameFor(header), type: type as ColumnType, notNull: Boolean(notNull) });
  }
  return out;
}

/** The columns a key rule names, in order: `EV{game_id}{event_index:05}` → game_id, event_index. */
export function keyRuleColumns(rule: string): string[] {
  return [...rule.matchAll(/\{([a-z_][a-z0-9_]*)(?::0(\d+))?\}/g)].map((m) => m[1]!);
}

export function defineTable(input: TableInput): TableDecl {
  const t = input;
  const names = new Set<string>();
  for (const c of t.columns) {
    if (!isPlainIdentifier(c.name)) throw new Error(`${t.name}: column "${c.header}" maps to an invalid name "${c.name}"`);
    if (names.has(c.name)) throw new Error(`${t.name}: two headers map to column "${c.name}"`);
    names.add(c.name);
  }
  const naturalKey = t.naturalKey.map((k) => k.replace(/\?$/, ''));
  const naturalKeyNullable = t.naturalKey.filter((k) => k.endsWith('?')).map((k) => k.slice(0, -1));
  for (const k of [...t.key, ...naturalKey, ...(t.gameColumn ? [t.gameColumn] : [])]) {
    if (!names.has(k)) throw new Error(`${t.name}: key/natural key/game column "${k}" is not a column`);
  }
  if (!naturalKey.length || naturalKeyNullable.length === naturalKey.length) throw new Error(`${t.name}: the natural key needs a column that may not be empty`);
  const keyIsIdentity = t.key.every((k) => naturalKey.includes(k));
  if (t.keyRule) {
    if (keyIsIdentity) throw new Error(`${t.name}: a key rule is for a surrogate key; ${t.key.join(', ')} is the natural key itself`);
    for (const c of keyRuleColumns(t.keyRule))
      if (!naturalKey.includes(c)) throw new Error(`${t.name}: the key rule names ${c}, which is not in the natural key`);
  } else if (!keyIsIdentity) {
    throw new Error(`${t.name}: a surrogate key needs a key rule (how to derive it from the natural key)`);
  }
  const aliases: Record<string, string> = {};
  for (const [alias, column] of Object.entries(t.aliases ?? {})) {
    const a = columnNameFor(alias);
    if (!names.has(column)) throw new Error(`${t.name}: alias ${alias} names no column (${column})`);
    if (names.has(a)) throw new Error(`${t.name}: alias ${alias} is a column of its own`);
    aliases[a] = column;
  }
  return Object.freeze({
    name: t.name,
    category: t.category,
    key: t.key,
    naturalKey,
    naturalKeyNullable,
    keyRule: t.keyRule ?? null,
    aliases: Object.freeze(aliases),
    drift: Object.freeze({ ...DRIFT_DEFAULTS[t.category], ...t.drift }),
    gameColumn: t.gameColumn,
    defaultOperation: t.defaultOperation,
    columns: t.columns,
  });
}
