import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { Cancelled, redactUrl, type Database, type Queryable, type QueryResult } from './database';

// Values come back as PostgreSQL writes them: numeric and bigint as exact strings,
// dates and timestamps as text, so that nothing is rounded or shifted by time zones.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 1082 || oid === 1114 || oid === 1184 || oid === 1083) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

function wrap(client: pg.PoolClient | pg.Pool, signal?: AbortSignal): Queryable {
  const check = () => {
    if (signal?.aborted) throw new Cancelled();
  };
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      check();
      const res = await client.query({ text: sql, values: params as unknown[] | undefined, types } as pg.QueryConfig);
      // Several statements in one text (no parameters) answer with one result each: the last one counts.
      const r = (Array.isArray(res) ? res[res.length - 1] : res) as pg.QueryResult;
      return { rows: (r?.rows ?? []) as R[], rowCount: r?.rowCount ?? 0, fields: r?.fields?.map((f) => f.name) };
    },
    async copyFrom(sql: string, source: Readable): Promise<number> {
      check();
      if (!('release' in client)) throw new Error('COPY needs a transaction');
      const sink = client.query(copyFromStdin(sql));
      await pipeline(source, sink);
      return Number(sink.rowCount ?? 0);
    },
  };
}

export interface PostgresOptions {
  url: string;
  max?: number;
  applicationName?: string;
  /** For messages, instead of the URL without its password. */
  label?: string;
}

export function openPostgres(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'benchsight-ops',
    idleTimeoutMillis: 10_000,
  });
  // An idle connection that dies (server restart, a killed backend) must not crash the process.
  pool.on('error', () => undefined);
  const top = wrap(pool);
  return {
    label: opts.label ?? redactUrl(opts.url),
    query: top.query,
    copyFrom: () => Promise.reject(new Error('COPY runs inside a transaction')),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, o: { signal?: AbortSignal } = {}): Promise<T> {
      if (o.signal?.aborted) throw new Cancelled();
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (e: Error) => (broken = e);
      client.on('error', onError);
      // Cancelling: the statement running now is cancelled by the server (from another
      // connection, as psql's Ctrl-C does); the next one is not sent. The backend is asked
      // for its pid inside the transaction: through a pooler, that is the real one.
      let backend: number | undefined;
      const onAbort = () => {
        if (backend) pool.query('SELECT pg_cancel_backend($1)', [backend]).catch(() => undefined);
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await client.query('BEGIN');
        if (o.signal) backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const out = await fn(wrap(client, o.signal));
        if (o.signal?.aborted) throw new Cancelled();
        await client.query('COMMIT');
        return out;
      } catch (err) {
        o.signal?.removeEventListener('abort', onAbort);
        const reason = o.signal?.aborted && !(err instanceof Cancelled) ? new Cancelled() : err;
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken ??= rollbackErr as Error;
        }
        throw reason;
      } finally {
        o.signal?.removeEventListener('abort', onAbort);
        client.off('error', onError);
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
