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

export interface TableDecl {
  name: string;
  category: Category;
  /** Primary key columns. */
  key: string[];
  /** The column that holds the game id, when the table can be scoped to one game. */
  gameColumn: string | null;
  defaultOperation: Operation;
  columns: ColumnDecl[];
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

export function defineTable(t: TableDecl): TableDecl {
  const names = new Set<string>();
  for (const c of t.columns) {
    if (!isPlainIdentifier(c.name)) throw new Error(`${t.name}: column "${c.header}" maps to an invalid name "${c.name}"`);
    if (names.has(c.name)) throw new Error(`${t.name}: two headers map to column "${c.name}"`);
    names.add(c.name);
  }
  for (const k of [...t.key, ...(t.gameColumn ? [t.gameColumn] : [])]) {
    if (!names.has(k)) throw new Error(`${t.name}: key/game column "${k}" is not a column`);
  }
  return Object.freeze(t);
}
