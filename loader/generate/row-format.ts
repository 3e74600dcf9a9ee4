/**
 * Turns row objects into CSV lines of one table, in the declaration's column order and
 * with the export's value styles (value-style.ts).
 *
 * Formatters are compiled once per table so that every column is read by a fixed
 * property name: V8 then reads rows of one shape through inline caches instead of a
 * dictionary lookup per cell. Values that many rows share (an event's columns, written
 * to fact_events and again to each of its fact_events_player rows) are formatted once
 * with `prepare` and passed as the `base` of those rows, also to another table whose
 * shared columns have the same styles (`sharing`).
 */
import type { TableDecl } from '../warehouse';
import {
  CACHED,
  CELL_FORMATTERS,
  FLOAT_INT_TEXT,
  floatWrittenIntegers,
  INT_TEXT,
  NEEDS_QUOTES,
  quoteIfNeeded,
  styleOf,
  type Row,
  type ValueStyle,
} from './value-style';

/** A row's values already written as CSV text, in the column order of the table that prepared them. */
export type PreparedTexts = readonly (string | undefined)[] & { readonly __prepared: true };

/** One CSV line (without the line break); a column `row` has no key for comes from `base`, else is NULL. */
export type FormatLine = (row: Row, base?: PreparedTexts) => string;

export interface RowFormatter {
  table: string;
  /** The header line, from the declaration. */
  header: string;
  headers: readonly string[];
  styles: ReadonlyMap<string, ValueStyle>;
  /** Formats rows whose `base` this formatter prepared. */
  format: FormatLine;
  prepare(row: Row): PreparedTexts;
  /** Formats rows whose `base` `other` prepared; throws if a shared column has another style there. */
  sharing(other: RowFormatter): FormatLine;
  /** Throws when a row carries a header the declaration does not have (a generator typo). */
  check(row: Row): void;
}

/** The header line of a table's file: the declaration's export headers, in order. */
export function csvHeader(table: TableDecl): string {
  return table.columns.map((c) => quoteIfNeeded(c.header)).join(',');
}

export function rowFormatter(table: TableDecl): RowFormatter {
  const floats = floatWrittenIntegers(table);
  const headers = table.columns.map((c) => c.header);
  const styles = new Map(table.columns.map((c) => [c.header, styleOf(c, floats)]));
  const known = new Set(headers);
  return {
    table: table.name,
    header: csvHeader(table),
    headers,
    styles,
    format: compileFormat(headers, styles, headers),
    prepare: compilePrepare(headers, styles),
    sharing(other) {
      for (const [h, style] of other.styles) {
        const mine = styles.get(h);
        if (mine && mine !== style) throw new Error(`generator bug: ${h} is ${style} in ${other.table} but ${mine} in ${table.name}; it cannot be shared`);
      }
      return compileFormat(headers, styles, other.headers);
    },
    check(row) {
      for (const k of Object.keys(row)) {
        if (!known.has(k)) throw new Error(`generator bug: ${table.name} has no column "${k}"`);
      }
    },
  };
}

/**
 * The text of a non-empty value. The common cases (plain text, small whole numbers) are
 * written inline: the compiled functions are too big for V8 to inline a call per cell.
 */
function cellText(style: ValueStyle, i: number, k: string): string {
  const general = `f${i}(v, ${k})`;
  const fast =
    style === 'text'
      ? `typeof v === 'string' && !NQ.test(v) ? v : ${general}`
      : style === 'int'
        ? `typeof v === 'number' && v >= 0 && v < N && (v | 0) === v ? INT[v] : ${general}`
        : style === 'float'
          ? `typeof v === 'number' && v >= 0 && v < N && (v | 0) === v ? FLT[v] : ${general}`
          : general;
  return `v === null || v === '' ? '' : ${fast}`;
}

const FAST = { INT: INT_TEXT, FLT: FLOAT_INT_TEXT, NQ: NEEDS_QUOTES, N: CACHED };

function compile<T>(headers: readonly string[], styles: ReadonlyMap<string, ValueStyle>, body: string): T {
  const formatters = headers.map((h) => CELL_FORMATTERS[styles.get(h)!]);
  const source = `const { INT, FLT, NQ, N } = fast;
${formatters.map((_, i) => `const f${i} = f[${i}];`).join('\n')}
${body}`;
  return new Function('f', 'fast', source)(formatters, FAST) as T;
}

/** `baseHeaders`: the column order of the prepared texts this function gets as `base`. */
function compileFormat(headers: readonly string[], styles: ReadonlyMap<string, ValueStyle>, baseHeaders: readonly string[]): FormatLine {
  const cells = headers.map((h, i) => {
    const k = JSON.stringify(h);
    const j = baseHeaders.indexOf(h);
    const fromBase = j < 0 ? "''" : `(base === undefined ? '' : base[${j}] ?? '')`;
    return `v = row[${k}]; c[${i}] = v === undefined ? ${fromBase} : ${cellText(styles.get(h)!, i, k)};`;
  });
  // One array of cells, reused: join copies them out.
  return compile(
    headers,
    styles,
    `const c = new Array(${headers.length}).fill('');
return function format(row, base) {
  let v;
  ${cells.join('\n  ')}
  return c.join(',');
};`,
  );
}

function compilePrepare(headers: readonly string[], styles: ReadonlyMap<string, ValueStyle>): (row: Row) => PreparedTexts {
  const cells = headers.map((h, i) => {
    const k = JSON.stringify(h);
    return `v = row[${k}]; if (v !== undefined) c[${i}] = ${cellText(styles.get(h)!, i, k)};`;
  });
  return compile(
    headers,
    styles,
    `return function prepare(row) {
  const c = new Array(${headers.length});
  let v;
  ${cells.join('\n  ')}
  return c;
};`,
  );
}
