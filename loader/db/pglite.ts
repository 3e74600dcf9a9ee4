import { mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from './database';

/**
 * Embedded PostgreSQL (PGlite, in-process). It has one session, so every query and
 * transaction of this process is queued through one lock. Its COPY reads a blob,
 * so a COPY source is buffered here (the streaming path is the real server's).
 */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Values come back as text where PostgreSQL's own text is exact (bigint, numeric,
  // dates, times), as node-postgres returns them, so both targets read the same.
  const asText = (v: string) => v;
  const db = await PGlite.create(dataDir, {
    parsers: { 20: asText, 1700: asText, 1082: asText, 1083: asText, 1114: asText, 1184: asText },
  });
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const wrap = (): Queryable => ({
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      if (!params || params.length === 0) {
        // The simple protocol: a migration file holds many statements.
        const results = await db.exec(sql);
        const last = results[results.length - 1];
        return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
      }
      const r = await db.query<R>(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async copyFrom(sql: string, source: Readable): Promise<number> {
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      const blob = new Blob(chunks);
      const r = await db.query(sql.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'"), [], { blob });
      return r.affectedRows ?? 0;
    },
  });
  const inner = wrap();

  return {
    kind: 'pglite',
    label: dataDir ? `embedded PostgreSQL (PGlite) in ${dataDir}` : 'embedded PostgreSQL (PGlite) in memory',
    query: (sql, params) => exclusive(() => inner.query(sql, params)),
    copyFrom: () => Promise.reject(new Error('COPY runs inside a transaction')),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      exclusive(async () => {
        await db.query('BEGIN');
        try {
          const out = await fn(inner);
          await db.query('COMMIT');
          return out;
        } catch (err) {
          await db.query('ROLLBACK');
          throw err;
        }
      }),
    close: () => exclusive(() => db.close()),
  };
}
