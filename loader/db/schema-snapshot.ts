/**
 * The schema snapshot, sql/schema.txt: what a database migrated from this repository
 * looks like, as text a person can read in review and a test can compare
 * (test/sql/schema.test.ts fails when a change alters the schema without it).
 * `npm run schema:snapshot` writes it from a throw-away embedded PostgreSQL, migrated
 * with Supabase's API roles present (NOLOGIN roles created there), as on Supabase, so
 * apply_exposure()'s policies and grants are part of it. The query is
 * sql/schema-snapshot.sql: catalog queries, whose text is the same on PostgreSQL 15 and
 * 17 (pg_dump's output changes with its version, and the embedded server ships none).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queryable } from './database';
import { migrate } from './migrate';
import { openPostgres } from './postgres';

export const SNAPSHOT_FILE = path.resolve(__dirname, '../../sql/schema.txt');
export const SNAPSHOT_QUERY = path.resolve(__dirname, '../../sql/schema-snapshot.sql');

/** The roles Supabase has and apply_exposure() writes policies and grants for. */
export const API_ROLES = ['anon', 'authenticated', 'tracker', 'benchsight_service'] as const;

/** The snapshot of the database `db` is connected to. */
export async function schemaSnapshot(db: Queryable): Promise<string> {
  const r = await db.query<{ snapshot: string }>(readFileSync(SNAPSHOT_QUERY, 'utf8'));
  return `${r.rows[0]!.snapshot}\n`;
}

/** Creates the API roles (NOLOGIN) that do not exist yet: cluster-wide, never dropped. */
export async function ensureApiRoles(db: { query(sql: string): Promise<unknown> }): Promise<void> {
  for (const role of API_ROLES) {
    await db.query(`DO $$ BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
  }
}

async function main(): Promise<void> {
  // (imported here: the module of the embedded server is not for everyone who reads a snapshot)
  const { useEmbedded } = await import('./embedded');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-schema-'));
  chmodSync(dataDir, 0o755); // as root the server runs as the OS user postgres, which must enter it
  const server = await useEmbedded({ dataDir, owner: 'command', ephemeral: true });
  try {
    const db = openPostgres({ url: server.url });
    try {
      await ensureApiRoles(db);
      await migrate(db);
      writeFileSync(SNAPSHOT_FILE, await schemaSnapshot(db));
      process.stdout.write(`wrote ${path.relative(process.cwd(), SNAPSHOT_FILE)} (PostgreSQL ${server.version})\n`);
    } finally {
      await db.close();
    }
  } finally {
    await server.release();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`schema:snapshot failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
