/** The CLI's streams, and a database opened for one command. */
import type { Config } from '../config';
import { openDatabase } from '../db/connect';
import type { Database } from '../db/database';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** Runs `fn` with the configured database (DATABASE_URL, or the embedded one) and closes it after. */
export async function withDatabase(config: Config, io: Io, fn: (db: Database) => Promise<number>): Promise<number> {
  const db = await openDatabase({ ...config, notice: (l) => io.stderr.write(`database: ${l}\n`) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
