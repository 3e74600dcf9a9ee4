/**
 * Errors a person can act on: which file, which line, which column, which value.
 * Everything the engine refuses becomes a LoadError; database errors are translated.
 */
import { pgErrorFields } from '../db/database';
import type { LoadErrorInfo } from './request';
import { LIMITS, valueKind, type ValueKind } from './values';

export class LoadError extends Error {
  readonly info: LoadErrorInfo;
  constructor(info: LoadErrorInfo) {
    const clean: LoadErrorInfo = {
      ...info,
      message: clip(info.message, 1000),
      ...(info.value !== undefined ? { value: clip(info.value) } : {}),
      ...(info.column !== undefined ? { column: clip(info.column, 100) } : {}),
    };
    super(formatError(clean));
    this.info = clean;
  }
}

/** Long values are shown by their start and length: a message stays a message. */
function clip(s: string, max = 200): string {
  const clean = s.replace(/\u0000/g, '\\0');
  return clean.length > max ? `${clean.slice(0, max)}… (${clean.length.toLocaleString('en-US')} characters)` : clean;
}

export function formatError(info: LoadErrorInfo): string {
  const where = [info.file, info.line !== undefined ? `line ${info.line}` : undefined, info.column ? `column ${info.column}` : undefined]
    .filter(Boolean)
    .join(', ');
  const value = info.value !== undefined && !info.message.includes(JSON.stringify(info.value)) ? ` (value ${JSON.stringify(info.value)})` : '';
  return `${where ? `${where}: ` : ''}${info.message}${value}${info.hint ? `. ${info.hint}` : ''}`;
}

const KIND_WORDS: Record<ValueKind, string> = {
  integer: 'a whole number',
  bigint: 'a whole number',
  smallint: 'a whole number',
  boolean: 'true or false',
  numeric: 'a number',
  timestamp: 'a date and time (YYYY-MM-DD HH:MM:SS)',
  date: 'a date (YYYY-MM-DD)',
  time: 'a time of day (HH:MM:SS)',
};

/** What a refused value looks like in a message: quoted, and cut short when long. */
function quoteValue(v: string): string {
  return v.length > 200 ? `'${v.slice(0, 200)}'… (${v.length.toLocaleString('en-US')} characters)` : `'${v}'`;
}

const FIX_THE_VALUE = 'fix the value in the file and drop it again; nothing was loaded';

/** A value its column's type does not take: what a changed export may bring (a drift policy widens the column, or rejects the row). */
export class BadValue extends LoadError {}

/** A value its column's type does not take (values.ts refused it, or PostgreSQL did). */
export function badValue(file: string, line: number, column: string, kind: ValueKind, value: string): LoadError {
  // A whole number refused by a whole-number column is too big for it: say so, and the range.
  const range = kind in LIMITS && /^\s*[+-]?\d+(\.0*)?\s*$/.test(value) ? LIMITS[kind as keyof typeof LIMITS] : undefined;
  return new BadValue({
    file,
    line,
    column,
    value,
    message: range
      ? `${quoteValue(value)} is out of range for a whole-number column of type ${kind}: it takes ${range[0]} to ${range[1]}`
      : `${quoteValue(value)} is not ${KIND_WORDS[kind]}`,
    hint: FIX_THE_VALUE,
  });
}

/** What the engine knows about the file being read when an error arrives. */
export interface ErrorContext {
  table?: string;
  file?: string;
  /** column name → header as written in the file */
  headers?: Map<string, string>;
  /** The file line of a line of what COPY read (COPY counts the lines it was sent). */
  lineOf?: (copyLine: number) => number;
  /** column name → type of the staging column COPY was filling */
  types?: Map<string, string>;
}

const COPY_COLUMN = /^COPY \S+, line (\d+), column (\w+): "([\s\S]*)"$/m;

const COPY_CONTEXT = /COPY \S+, line (\d+)(?:, column (\S+?))?(?:: "(\d+),)?/;

export function toLoadError(err: unknown, ctx: ErrorContext = {}): LoadError {
  if (err instanceof LoadError) {
    return new (err instanceof BadValue ? BadValue : LoadError)({ table: ctx.table, file: ctx.file, ...err.info });
  }
  // Checked first: a connection killed during COPY carries COPY's line in its context,
  // but no line of the file is to blame.
  const lost = lostConnection(err);
  if (lost) {
    return new LoadError({
      table: ctx.table,
      file: ctx.file,
      message: `the connection to the database was lost${ctx.table ? ` while loading ${ctx.table}` : ''} (${lost}): nothing was changed`,
      hint: 'the server restarted or the connection was closed, and the load was rolled back with it; run the command again once the database answers',
    });
  }
  const pgErr = pgErrorFields(err);
  if (!pgErr) {
    const message = err instanceof Error ? err.message : String(err);
    return new LoadError({ message, table: ctx.table, file: ctx.file });
  }
  const header = (col?: string) => (col ? (ctx.headers?.get(col) ?? col) : undefined);
  const base = { table: ctx.table, file: ctx.file };
  // The database's own hint, when it gave one (a drift policy's refusal names its option there).
  const pgHint = typeof (err as { hint?: unknown }).hint === 'string' ? (err as { hint: string }).hint : undefined;

  // bs_apply and friends put {line, column, value} in DETAIL.
  if (pgErr.detail?.startsWith('{')) {
    try {
      const d = JSON.parse(pgErr.detail) as { line?: number; column?: string; value?: string };
      const message = pgErr.message.replace(/^line \d+, column \S+: /, '').replace(/^line \d+: /, '');
      return new LoadError({ ...base, message, line: d.line, column: header(d.column), value: d.value ?? undefined, hint: pgHint ?? hintFor(pgErr.code) });
    } catch {
      /* not ours: fall through */
    }
  }

  // Errors raised by COPY itself: the line prefix we put in front of every record is
  // the CSV line where the record starts.
  // A value the column's type does not take (values.ts refuses almost all of them
  // before COPY sees them; the rest, PostgreSQL's own input functions find).
  const c = pgErr.where ? COPY_COLUMN.exec(pgErr.where) : null;
  const kind = c ? valueKind(ctx.types?.get(c[2]!) ?? '') : null;
  if (c && kind && c[2] !== '_line' && /^22/.test(pgErr.code ?? '')) {
    const quoted = /"([\s\S]*)"/.exec(pgErr.message);
    const value = quoted ? quoted[1]! : c[3]!;
    const e = badValue(ctx.file ?? '', ctx.lineOf ? ctx.lineOf(Number(c[1])) : Number(c[1]), header(c[2])!, kind, value);
    return new BadValue({ ...e.info, table: ctx.table, file: ctx.file });
  }
  const m = pgErr.where ? COPY_CONTEXT.exec(pgErr.where) : null;
  if (m) {
    const line = m[3] ? Number(m[3]) : ctx.lineOf ? ctx.lineOf(Number(m[1])) : undefined;
    let hint = 'check the quoting and the number of commas on that line';
    let message = pgErr.message;
    if (/^extra data after last expected column$/.test(message)) message = 'this row has more values than the header has columns';
    else if (/^missing data for column "(.*)"$/.test(message))
      message = `this row has fewer values than the header: nothing for column ${header(/"(.*)"/.exec(message)![1])}`;
    else if (/^unquoted (newline|carriage return) found in data$/.test(message)) {
      message = 'this line ends differently from the lines before it (a mix of CRLF and LF line endings)';
      hint = 'save the file with one kind of line ending';
    } else if (/invalid byte sequence/.test(message)) hint = 'save the file as UTF-8';
    return new LoadError({ ...base, message, line, hint });
  }
  return new LoadError({ ...base, message: pgErr.message, hint: pgHint ?? hintFor(pgErr.code) });
}

/**
 * The reason, when `err` says the connection to the server went away (a killed backend,
 * a server shutdown or restart, a dropped network connection); else undefined. Whatever
 * the transaction had done went with it: the server rolls back a transaction whose
 * connection ends.
 */
function lostConnection(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (/^08/.test(code) || ['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code))) return err.message;
  // node-postgres' own words for a socket that closed under it
  if (/^Connection terminated\b|^Client has encountered a connection error|^Client was closed and is not queryable/.test(err.message)) return err.message;
  return undefined;
}

/** A hint for a database error the engine has no better words for. */
function hintFor(code?: string): string | undefined {
  return code === '22P02' ? FIX_THE_VALUE : undefined;
}
