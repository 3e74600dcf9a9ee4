/** `benchsight sql "<query>"`: the rows as a table (or JSON); `sql --url` prints where the database is. */
import { table } from '../commands/render';
import type { Config } from '../config';
import { pgErrorFields } from '../db/database';
import { runningUrl } from '../db/embedded';
import { type Io, withDatabase } from './io';

export async function runSql(config: Config, query: string, flags: { json?: boolean; url?: boolean }, io: Io, width?: number): Promise<number> {
  if (flags.url) {
    const url = config.databaseUrl ?? runningUrl(config.dataDir);
    if (!url) {
      io.stderr.write('benchsight: the embedded PostgreSQL is not running: start it with `npm start` (it runs while the stack does), or set DATABASE_URL\n');
      return 1;
    }
    io.stdout.write(flags.json ? `${JSON.stringify({ url })}\n` : `${url}\n`);
    return 0;
  }
  if (!query.trim()) {
    io.stderr.write('benchsight: usage: benchsight sql "<query>" [--json]   |   benchsight sql --url\n');
    return 2;
  }
  return withDatabase(config, io, async (db) => {
    try {
      const r = await db.query<Record<string, unknown>>(query);
      if (flags.json) io.stdout.write(`${JSON.stringify(r.rows, null, 2)}\n`);
      else if (r.rows.length || r.fields?.length) {
        const headers = r.fields ?? Object.keys(r.rows[0] ?? {});
        io.stdout.write(
          `${table(
            headers,
            r.rows.map((row) => headers.map((h) => cell(row[h]))),
            { width },
          )}\n(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})\n`,
        );
      } else io.stdout.write(`OK (${r.rowCount} row${r.rowCount === 1 ? '' : 's'})\n`);
      return 0;
    } catch (e) {
      const f = pgErrorFields(e);
      io.stderr.write(`benchsight: ${(e as Error).message}${f?.detail ? `\n  ${f.detail}` : ''}\n`);
      return 1;
    }
  });
}

function cell(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
