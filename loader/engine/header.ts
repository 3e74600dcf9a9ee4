/**
 * Matches a file's header to its table: every header maps to a column by the one
 * naming rule; a header the table lacks is refused (or added, when asked); a table
 * column the file lacks loads as NULL with a warning, unless it may not be empty.
 */
import { columnNameFor, isPlainIdentifier } from '../warehouse';
import { LoadError } from './errors';

export interface TableColumn {
  column_name: string;
  column_type: string;
  not_null: boolean;
}

export interface HeaderPlan {
  /** The file's columns in file order: header as written → column name. */
  columns: { header: string; name: string }[];
  /** Headers whose columns the table lacks (only when unknown columns are to be added). */
  added: { header: string; name: string }[];
  warnings: string[];
}

export function planHeader(
  file: string,
  table: string,
  headers: string[],
  tableColumns: TableColumn[],
  unknownColumns: 'refuse' | 'add',
  /** The file line the header is on (2 when Excel's `sep=,` line comes first). */
  line = 1,
): HeaderPlan {
  const seen = new Map<string, string>();
  const columns: { header: string; name: string }[] = [];
  headers.forEach((header, i) => {
    if (header.trim() === '') {
      throw new LoadError({ file, table, line, message: `header column ${i + 1} has no name`, hint: 'every column of the header needs a name' });
    }
    const name = columnNameFor(header);
    if (!isPlainIdentifier(name)) {
      throw new LoadError({ file, table, line, column: header, message: `the header ${JSON.stringify(header)} does not make a usable column name` });
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new LoadError({
        file,
        table,
        line,
        column: header,
        message:
          earlier === header
            ? `the header names column ${JSON.stringify(header)} twice`
            : `the headers ${JSON.stringify(earlier)} and ${JSON.stringify(header)} both mean column ${name}`,
      });
    }
    seen.set(name, header);
    columns.push({ header, name });
  });

  const known = new Map(tableColumns.map((c) => [c.column_name, c]));
  const unknown = columns.filter((c) => !known.has(c.name));
  if (unknown.length && unknownColumns === 'refuse') {
    throw new LoadError({
      file,
      table,
      line,
      column: unknown[0]!.header,
      message: `${table} has no column${unknown.length > 1 ? 's' : ''} ${unknown
        .slice(0, 20)
        .map((c) => c.header)
        .join(', ')}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''}`,
      hint: 'the export has columns the warehouse does not know: check the file is for this table, or load with the option that adds new columns (--add-columns)',
    });
  }
  const inFile = new Set(columns.map((c) => c.name));
  const missing = tableColumns.filter((c) => !inFile.has(c.column_name));
  const required = missing.filter((c) => c.not_null);
  if (required.length) {
    throw new LoadError({
      file,
      table,
      line,
      message: `the file has no column ${required.map((c) => c.column_name).join(', ')}, which ${table} needs`,
      hint: 'is this the right file for the table?',
    });
  }
  const warnings = missing.length
    ? [
        `${file}: no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => c.column_name).join(', ')} in the file; new rows get NULL there, existing rows keep their values`,
      ]
    : [];
  return { columns, added: unknown, warnings };
}
