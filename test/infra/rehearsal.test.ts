/**
 * The database side of `pulumi up` on a Supabase project, rehearsed on the real PostgreSQL
 * server as Supabase has it: the admin is no superuser (CREATEROLE only) and owns the
 * database; anon, authenticated, authenticator and service_role exist; tables in public
 * belong to the admin (as PostGIS's spatial_ref_sys or a table made in the dashboard).
 * The admin runs the roles and grants the program declares (read from its resources under
 * mocks), the built migrate bundle runs as the migrator in a process of its own (as on
 * Lambda), then the grants that wait for it. Then the loader loads, the reader reads,
 * anon writes nothing — and a second deploy passes, with the admin's table still in public.
 *
 * One limit the rehearsal shows: the applied migrations 000006–000010 run the exposure as
 * it was written then, which alters every table of public; a table of another role in
 * public before the first deploy is refused up front, naming it (it must move out first).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdas } from '../../infra/build';
import type { Database } from '../../loader/db/database';
import { openPostgres } from '../../loader/db/postgres';
import { folderSource, load } from '../../loader/engine';
import { TABLE_NAMES } from '../../loader/warehouse';
import { leagueFolder } from '../bot/support/slack';
import { serverUrl } from '../support/database';
import { hasRealData, REAL_CSV } from '../support/real-data';
import { declaredSql, runAsAdmin, type DeclaredStep } from './support/declared-sql';
import { baseConfig, runStack, type StackRun } from './support/stack';
import { unwrap } from './support/walk';

const ID = `${process.pid}`;
const PREFIX = `rh-${ID}`;
const ADMIN = `rh_${ID}_admin`;
const DB = `rh_${ID}_db`;
const SUPABASE_ROLES = ['anon', 'authenticated', 'authenticator', 'service_role'];

let run: StackRun;
let steps: { before: DeclaredStep[]; after: DeclaredStep[] };
let bundle: string;
let out: string;
let adminDb: Database;
const opened: Database[] = [];

const urlOf = (user: string, database = DB) => {
  const u = new URL(serverUrl());
  u.username = user;
  u.password = '';
  u.pathname = `/${database}`;
  u.search = '?sslmode=disable';
  return u.toString();
};

async function superuser(sql: string, database?: string): Promise<void> {
  const c = new pg.Client({ connectionString: database ? urlOf(new URL(serverUrl()).username, database) : serverUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A connection string the program derived (the secrets it stores for the functions). */
function secretUrl(name: string): string {
  return unwrap(run.one('aws:secretsmanager/secretVersion:SecretVersion', `${name}-value`).inputs.secretString) as string;
}

/** The built migrate bundle, run as `pulumi up` runs it: a fresh process, the invocation's input. */
function deployMigrations(change: Record<string, unknown> = {}): Record<string, unknown> {
  const input = JSON.stringify({ ...JSON.parse(run.one('aws:lambda/invocation:Invocation').inputs.input as string), ...change });
  const stdout = execFileSync(
    process.execPath,
    [
      '-e',
      'require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { process.stderr.write(e.message); process.exit(1); })',
      bundle,
      input,
    ],
    { cwd: tmpdir(), env: { PATH: process.env.PATH, DATABASE_URL: secretUrl('database-url-migrator') }, stdio: ['ignore', 'pipe', 'pipe'] },
  ).toString();
  return JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1)) as Record<string, unknown>;
}

function open(url: string): Database {
  const db = openPostgres({ url, max: 1 });
  opened.push(db);
  return db;
}

beforeAll(async () => {
  for (const role of SUPABASE_ROLES) {
    await superuser(`DO $$ BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
  }
  // Supabase's postgres: CREATEROLE (no superuser), member of the API roles, owner of the database.
  await superuser(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await superuser(`DROP ROLE IF EXISTS ${ADMIN}; CREATE ROLE ${ADMIN} LOGIN CREATEROLE; GRANT anon, authenticated, service_role TO ${ADMIN}`);
  await superuser(`CREATE DATABASE ${DB} OWNER ${ADMIN}`);
  // Supabase gives the API roles everything the admin makes in public.
  await superuser(
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${ADMIN} IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
     ALTER DEFAULT PRIVILEGES FOR ROLE ${ADMIN} IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role`,
    DB,
  );
  adminDb = open(urlOf(ADMIN));
  await adminDb.query('CREATE TABLE public.spatial_ref_sys (srid integer PRIMARY KEY, auth_name text)');
  await adminDb.query("CREATE TABLE public.dashboard_notes (id serial PRIMARY KEY, note text); INSERT INTO dashboard_notes (note) VALUES ('mine')");

  run = await runStack(
    baseConfig({
      'benchsight-ops:namePrefix': PREFIX,
      'benchsight-ops:databaseUrl': urlOf(ADMIN).replace(`${ADMIN}@`, `${ADMIN}:admin-password@`),
    }),
  );
  steps = declaredSql(run.resources);
  out = mkdtempSync(path.join(tmpdir(), 'bs-rehearsal-'));
  bundle = (await buildLambdas(['migrate'], { outDir: out }))[0]!.file;
}, 300_000);

afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
  const roles = ['migrator', 'loader', 'reader'].map((r) => `${PREFIX.replace(/-/g, '_')}_${r}`);
  await superuser(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await superuser(`DROP ROLE IF EXISTS ${[...roles, ADMIN].join(', ')}`);
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the first pulumi up on a Supabase-like database, as its non-superuser admin', () => {
  it('runs the roles and grants the program declares, before and after the migrations', () => {
    const resources = [...steps.before, ...steps.after].map((s) => s.resource.split(' ')[1]);
    expect(resources).toEqual(expect.arrayContaining(['database-migrator', 'database-loader', 'database-reader', 'database-tracker']));
    expect(steps.before.map((s) => s.resource)).toContain('postgresql:index/grant:Grant database-migrator-schema');
    expect(steps.after.map((s) => s.resource)).toContain('postgresql:index/grant:Grant database-loader-tables');
    expect(steps.before.some((s) => s.resource.endsWith('database-loader-tables'))).toBe(false);
  });

  it('deploys over tables of another role in public (PostGIS, the dashboard): roles, the built migrate bundle as the migrator, then the grants; those tables left as they were', async () => {
    const before = await adminDb.query(
      "SELECT relname, relowner::regrole::text AS owner, relrowsecurity AS rls, relacl::text AS acl FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v') ORDER BY 1",
    );
    await runAsAdmin(adminDb, steps.before);
    const result = deployMigrations();
    expect(result).toMatchObject({ exposure: 'applied' });
    expect((result.applied as string[]).length).toBeGreaterThan(10);
    await runAsAdmin(adminDb, steps.after);
    const after = await adminDb.query(
      "SELECT relname, relowner::regrole::text AS owner, relrowsecurity AS rls, relacl::text AS acl FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY($1) ORDER BY 1",
      [before.rows.map((r) => r.relname)],
    );
    expect(after.rows).toEqual(before.rows);
  }, 180_000);

  it('lets the loader load a real file', async () => {
    const loader = open(secretUrl('database-url-loader'));
    const folder = hasRealData ? REAL_CSV : leagueFolder();
    if (!hasRealData) process.stderr.write('[rehearsal] no real export: loading the fixture league instead\n');
    const r = await load(loader, {
      initiatedBy: 'rehearsal',
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'replace',
      source: folderSource(folder),
    });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    const n = await loader.query<{ n: number }>('SELECT count(*)::int AS n FROM dim_team');
    expect(n.rows[0]!.n).toBeGreaterThan(0);
  });

  it('lets the reader read the warehouse tables and nothing else', async () => {
    const reader = open(unwrapReaderUrl());
    expect((await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM dim_team')).rows[0]!.n).toBeGreaterThan(0);
    await expect(reader.query('SELECT 1 FROM load_history')).rejects.toMatchObject({ code: '42501' });
    await expect(reader.query("INSERT INTO dim_team (team_id) VALUES ('X')")).rejects.toMatchObject({ code: '42501' });
  });

  it('lets anon write nothing and, by default, read nothing; authenticated reads the warehouse', async () => {
    const as = async (role: string, sql: string) =>
      adminDb.transaction(async (tx) => {
        await tx.query(`SET LOCAL ROLE ${role}`);
        return (await tx.query(sql)).rows;
      });
    for (const table of TABLE_NAMES.slice(0, 3)) {
      await expect(as('anon', `DELETE FROM ${table}`)).rejects.toMatchObject({ code: '42501' });
    }
    await expect(as('anon', "INSERT INTO dim_team (team_id) VALUES ('X')")).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', 'SELECT 1 FROM dim_team')).rejects.toMatchObject({ code: '42501' });
    expect((await as('authenticated', 'SELECT count(*)::int AS n FROM dim_team'))[0]).toMatchObject({ n: expect.any(Number) });
    await expect(as('authenticated', "UPDATE dim_team SET team_name = 'x'")).rejects.toMatchObject({ code: '42501' });
  });

  it("passes a second deploy, with a table of the admin's made in public since (in the dashboard), left as it was", async () => {
    await adminDb.query(
      "CREATE TABLE public.dashboard_notes_since (id serial PRIMARY KEY, note text); INSERT INTO dashboard_notes_since (note) VALUES ('mine')",
    );
    await runAsAdmin(adminDb, steps.before);
    expect(deployMigrations()).toMatchObject({ applied: [], exposure: 'applied' });
    await runAsAdmin(adminDb, steps.after);
    const kept = await adminDb.query<{ rls: boolean; owner: string }>(
      "SELECT relrowsecurity AS rls, relowner::regrole::text AS owner FROM pg_class WHERE oid = 'public.dashboard_notes_since'::regclass",
    );
    expect(kept.rows).toEqual([{ rls: false, owner: ADMIN }]);
    expect((await adminDb.query('SELECT note FROM dashboard_notes_since')).rows).toEqual([{ note: 'mine' }]);
    const loader = open(secretUrl('database-url-loader'));
    const r = await load(loader, {
      initiatedBy: 'rehearsal',
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      source: folderSource(hasRealData ? REAL_CSV : leagueFolder()),
    });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
  }, 180_000);

  it('lets anon read the warehouse once the stack sets apiAnonRead, and still write nothing', async () => {
    const anon = (sql: string) =>
      adminDb.transaction(async (tx) => {
        await tx.query('SET LOCAL ROLE anon');
        return (await tx.query(sql)).rows;
      });
    expect(deployMigrations({ apiAnonRead: true })).toMatchObject({ applied: [], exposure: 'applied' });
    expect((await anon('SELECT count(*)::int AS n FROM dim_team'))[0]).toMatchObject({ n: expect.any(Number) });
    await expect(anon("INSERT INTO dim_team (team_id) VALUES ('X')")).rejects.toMatchObject({ code: '42501' });
    await expect(anon('SELECT 1 FROM load_history')).rejects.toMatchObject({ code: '42501' });
    expect(deployMigrations({ apiAnonRead: false })).toMatchObject({ exposure: 'applied' });
    await expect(anon('SELECT 1 FROM dim_team')).rejects.toMatchObject({ code: '42501' });
  }, 120_000);
});

/** The reader's connection string: the program keeps it in the secret readerDatabaseUrlSecretArn names. */
function unwrapReaderUrl(): string {
  return secretUrl('database-url-reader');
}
