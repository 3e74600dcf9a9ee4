/**
 * Each test file gets its own fresh database on the test server, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database } from '../../loader/db/database';
import { openPostgres } from '../../loader/db/postgres';
import { migrate } from '../../loader/db/migrate';

export interface TestDatabase {
  url: string;
  name: string;
  db: Database;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  return inject('serverUrl');
}

export function urlFor(database: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database (`migrated: true` applies the migrations). */
export async function freshDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `bs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = urlFor(name);
  const db = openPostgres({ url });
  if (opts.migrated) await migrate(db);
  return {
    url,
    name,
    db,
    async drop() {
      await db.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * The pid of a statement like `sqlLike` (and `extra`, more SQL conditions on
 * pg_stat_activity) running in database `database`, as soon as it runs: a test acts while a
 * load is in the middle of it. Throws after ~10 s of nothing.
 */
export async function whenRunning(database: string, sqlLike: string, extra = ''): Promise<number> {
  return admin(async (c) => {
    for (let i = 0; i < 1000; i++) {
      const r = await c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE $2 AND state = 'active' ${extra}`, [
        database,
        sqlLike,
      ]);
      if (r.rows[0]) return r.rows[0].pid;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`nothing like ${sqlLike} ran`);
  });
}

/** Ends the backend `pid` (a killed connection). */
export async function terminate(pid: number): Promise<void> {
  await admin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
}

/**
 * A login role with the rights the stack gives its loader on t's database (DML, TRUNCATE,
 * sequences, EXECUTE on every function of public) and a policy letting it do anything on
 * every table of public (row-level security may be on); its URL, with a password (the
 * embedded server asks for one), and its removal.
 */
export async function loaderRole(t: TestDatabase, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const password = randomBytes(12).toString('hex');
  await t.db.query(`DROP ROLE IF EXISTS ${name}`);
  await t.db.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
  await t.db.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ${name}`);
  await t.db.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${name}`);
  await t.db.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${name}`);
  const tables = (await t.db.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")).rows.map((x) => x.t);
  for (const x of tables) await t.db.query(`CREATE POLICY bs_test_all ON ${x} FOR ALL TO ${name} USING (true) WITH CHECK (true)`);
  const u = new URL(t.url);
  u.username = name;
  u.password = password;
  return {
    url: u.toString(),
    async drop() {
      for (const x of tables) await t.db.query(`DROP POLICY IF EXISTS bs_test_all ON ${x}`);
      await t.db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${name}`);
      await t.db.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${name}`);
      await t.db.query(`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM ${name}`);
      await t.db.query(`DROP ROLE ${name}`);
    },
  };
}
