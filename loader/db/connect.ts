import path from 'node:path';
import type { Database } from './database';
import { openPostgres } from './postgres';
import { openPglite } from './pglite';

export interface DatabaseTarget {
  /** A PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string;
  /** Folder for the embedded database's files. */
  dataDir: string;
  /** Where the one-line notice about the embedded database goes. */
  notice?: (line: string) => void;
}

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.databaseUrl) return openPostgres({ url: target.databaseUrl });
  const dir = path.resolve(target.dataDir, 'pglite');
  target.notice?.(`DATABASE_URL is not set: using the embedded PostgreSQL (PGlite) in ${dir}`);
  return openPglite(dir);
}
