import type { Database } from './database';
import { useEmbedded, type Owner } from './embedded';
import { migrate } from './migrate';
import { openPostgres } from './postgres';

export interface DatabaseTarget {
  /** A PostgreSQL connection string; when absent the embedded PostgreSQL of `dataDir` is used. */
  databaseUrl?: string;
  /** The local data folder (.benchsight): the embedded server's files live in it. */
  dataDir: string;
  /** Who uses the embedded server (it is started when none runs, and stopped after by its starter). */
  owner?: Owner;
  /** Where the one-line notices about the embedded database go. */
  notice?: (line: string) => void;
}

/**
 * The database: DATABASE_URL's server, or else the embedded PostgreSQL of the data
 * folder (started for the time it is used when nothing runs it yet). Both are the same
 * node-postgres code path.
 */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.databaseUrl) return openPostgres({ url: target.databaseUrl });
  const server = await useEmbedded({ dataDir: target.dataDir, owner: target.owner ?? 'command', log: target.notice });
  const db = openPostgres({ url: server.url, label: `embedded PostgreSQL ${server.version} in ${server.dir} (127.0.0.1:${server.port})` });
  // The embedded database is the product's own: it is kept migrated. (Two commands that
  // started at once migrate one after the other: the second finds nothing to do.)
  try {
    await migrate(db, { log: (l) => target.notice?.(l) });
  } catch (err) {
    await db.close();
    await server.release();
    throw err;
  }
  return {
    ...db,
    async close() {
      await db.close();
      await server.release();
    },
  };
}
