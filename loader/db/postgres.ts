import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { redactUrl, type Database, type Queryable, type QueryResult } from './database';

// Values come back as PostgreSQL writes them: numeric and bigint as exact strings,
// dates and timestamps as text, so that nothing is rounded or shifted by time zones.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 1082 || oid === 1114 || oid === 1184 || oid === 1083) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

function wrap(client: pg.PoolClient | pg.Pool): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await client.query({ text: sql, values: params as unknown[] | undefined, types } as pg.QueryConfig);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async copyFrom(sql: string, source: Readable): Promise<number> {
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
    kind: 'postgres',
    label: redactUrl(opts.url),
    query: top.query,
    copyFrom: () => Promise.reject(new Error('COPY runs inside a transaction')),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (e: Error) => (broken = e);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken ??= rollbackErr as Error;
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
