/**
 * Matches a file's header to its table, as the table is now (catalog.ts): every header
 * maps to a column by the one naming rule, or by one of the column's other names (its
 * aliases: a renamed column lands in its column). What the table lacks follows the table's
 * drift policy: refused (the error names the option), added, or ignored; a pandas index
 * that leaked in (`row_index`) is ignored. A table column the file lacks is NULL in the
 * rows a replace loads, and kept in the rows an upsert or merge updates; a key column the
 * file lacks is derived from the natural key (sql/functions/drift.sql), when the file has it.
 */
import { columnNameFor, isPlainIdentifier, type DriftPolicy, type Operation } from '../warehouse';
import type { TableCatalog } from './catalog';
import { LoadError } from './errors';

export interface TableColumn {
  column_name: string;
  column_type: string;
  not_null: boolean;
}

export interface HeaderPlan {
  /** The file's columns in file order: header as written → column name (a new column's own name). */
  columns: { header: string; name: string }[];
  /** Headers whose columns the table lacks, to be added (policy `add`). */
  added: { header: string; name: string }[];
  /** Headers whose columns the table lacks, staged but not loaded: a pandas index, policy `ignore`, or refused (a plan's). */
  ignored: { header: string; name: string; why: 'pandas index' | 'policy' | 'refused' }[];
  /** Headers that are another name of a column (an alias). */
  renamed: { header: string; name: string }[];
  /** Table columns the file lacks (the key aside). */
  absent: string[];
  /** The file has no key column: it is derived from the natural key. */
  keyDerived: boolean;
  /** New columns named like a key (`player_game_key` beside `goalie_game_key`). */
  keyLike: string[];
  /** Why the drift policy refuses the file (a plan goes on; a load throws). */
  refused?: string;
  warnings: string[];
}

/** Names a pandas index takes when a DataFrame is written with its index (after the header rule). */
export const PANDAS_INDEX_NAMES = ['index', 'row_index', 'unnamed__0', 'unnamed_0', 'level_0'];

export interface HeaderOptions {
  policy: DriftPolicy;
  operation: Operation;
  /** A plan (a dry run): what the policy refuses is said, not thrown. */
  plan: boolean;
  /** The file line the header is on (2 when Excel's `sep=,` line comes first). */
  line?: number;
}

export function planHeader(file: string, table: TableCatalog, headers: string[], o: HeaderOptions): HeaderPlan {
  const line = o.line ?? 1;
  const where = { file, table: table.table, line };
  const seen = new Map<string, string>();
  const raw: { header: string; name: string }[] = [];
  headers.forEach((header, i) => {
    if (header.trim() === '') {
      throw new LoadError({ ...where, message: `header column ${i + 1} has no name`, hint: 'every column of the header needs a name' });
    }
    const name = columnNameFor(header);
    if (!isPlainIdentifier(name)) {
      throw new LoadError({ ...where, column: header, message: `the header ${JSON.stringify(header)} does not make a usable column name` });
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new LoadError({
        ...where,
        column: header,
        message:
          earlier === header
            ? `the header names column ${JSON.stringify(header)} twice`
            : `the headers ${JSON.stringify(earlier)} and ${JSON.stringify(header)} both mean column ${name}`,
      });
    }
    seen.set(name, header);
    raw.push({ header, name });
  });

  const known = new Map(table.columns.map((c) => [c.column_name, c]));
  // An alias lands in its column, unless the file has that column under its own name too.
  const renamed: { header: string; name: string }[] = [];
  const columns = raw.map((c) => {
    const target = known.has(c.name) ? undefined : table.aliases[c.name];
    if (target === undefined || seen.has(target) || renamed.some((r) => r.name === target)) return c;
    renamed.push({ header: c.header, name: target });
    return { header: c.header, name: target };
  });

  const unknown = columns.filter((c) => !known.has(c.name));
  const ignored: HeaderPlan['ignored'] = [];
  const added: HeaderPlan['added'] = [];
  const fresh = unknown.filter((c) => {
    if (!PANDAS_INDEX_NAMES.includes(c.name)) return true;
    ignored.push({ ...c, why: 'pandas index' });
    return false;
  });
  let refused: string | undefined;
  if (fresh.length) {
    const list = `${fresh
      .slice(0, 20)
      .map((c) => c.header)
      .join(', ')}${fresh.length > 20 ? ` and ${fresh.length - 20} more` : ''}`;
    if (o.policy.newColumns === 'add') added.push(...fresh);
    else if (o.policy.newColumns === 'ignore') ignored.push(...fresh.map((c) => ({ ...c, why: 'policy' as const })));
    else {
      refused = `${table.table} has no column${fresh.length > 1 ? 's' : ''} ${list}, and its drift policy refuses new columns`;
      if (!o.plan) {
        throw new LoadError({
          ...where,
          column: fresh[0]!.header,
          message: refused,
          hint: 'the export has columns the warehouse does not know: check the file is for this table; `benchsight drift` shows every change it brings; load with --evolve to add them (typed from their values, a recorded schema change), or --new-columns ignore to load without them',
        });
      }
      ignored.push(...fresh.map((c) => ({ ...c, why: 'refused' as const })));
    }
  }

  const inFile = new Set(columns.map((c) => c.name));
  const missing = table.columns.filter((c) => !inFile.has(c.column_name));
  const keyMissing = !inFile.has(table.key);
  const keyDerived = keyMissing && table.keyRule !== null && table.naturalKey.every((c) => inFile.has(c));
  const required = missing.filter((c) => c.not_null && !(keyDerived && c.column_name === table.key));
  if (required.length) {
    const lacksNaturalKey = keyMissing && table.keyRule !== null ? table.naturalKey.filter((c) => !inFile.has(c)) : [];
    throw new LoadError({
      ...where,
      message: `the file has no column ${required.map((c) => c.column_name).join(', ')}, which ${table.table} needs`,
      hint: lacksNaturalKey.length
        ? `without ${table.key}, rows are known by their natural key (${table.naturalKey.join(', ')}), and the file lacks ${lacksNaturalKey.join(', ')}`
        : 'is this the right file for the table?',
    });
  }
  const absent = missing.filter((c) => c.column_name !== table.key).map((c) => c.column_name);
  const warnings: string[] = [];
  if (absent.length) {
    const what =
      o.operation === 'upsert' || o.operation === 'merge'
        ? 'the rows it updates keep their values there, new rows get NULL'
        : o.operation === 'append'
          ? 'new rows get NULL there'
          : 'the rows it loads get NULL there';
    warnings.push(`${file}: no column${absent.length > 1 ? 's' : ''} ${absent.join(', ')} in the file; ${what}`);
  }
  if (keyDerived) warnings.push(`${file}: no column ${table.key}; each row's key is derived from its natural key (${table.naturalKey.join(', ')})`);
  return {
    columns,
    added,
    ignored,
    renamed,
    absent,
    keyDerived,
    keyLike: fresh.filter((c) => /_key$/.test(c.name)).map((c) => c.name),
    ...(refused ? { refused } : {}),
    warnings,
  };
}
