/**
 * The one interface the product talks to PostgreSQL through (node-postgres: a server of
 * DATABASE_URL, also through a transaction-mode pooler, or the embedded server).
 * Nothing here keeps state beyond a transaction: no named prepared statements, no
 * session settings, no session-level locks.
 */
import type { Readable } from 'node:stream';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
  /** The result's column names, in order. */
  fields?: string[];
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs `COPY ... FROM STDIN` fed by `source`; returns the number of rows copied. */
  copyFrom(sql: string, source: Readable): Promise<number>;
}

export interface Database extends Queryable {
  /** Where the data lives, for messages (never contains a password). */
  readonly label: string;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * When `signal` aborts, the statement running is cancelled on the server, no further
   * statement runs (each throws a Cancelled), and the transaction rolls back.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: { signal?: AbortSignal }): Promise<T>;
  close(): Promise<void>;
}

/** The work was cancelled (Ctrl-C, a client that went away): nothing it did was kept. */
export class Cancelled extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'Cancelled';
  }
}

/** A database error with PostgreSQL's fields, whichever driver raised it. */
export interface PgErrorFields {
  message: string;
  code?: string;
  detail?: string;
  where?: string;
  column?: string;
  constraint?: string;
}

export function pgErrorFields(err: unknown): PgErrorFields | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as Record<string, unknown>;
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  return {
    message: String(e.message ?? ''),
    code: e.code,
    detail: typeof e.detail === 'string' ? e.detail : undefined,
    where: typeof e.where === 'string' ? e.where : undefined,
    column: typeof e.column === 'string' ? e.column : undefined,
    constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
  };
}

/** Hides the password of a connection string. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable connection string)';
  }
}
