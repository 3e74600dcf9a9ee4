/**
 * sql/migrations/000006_exposure.sql: what Supabase's API roles may do, checked with the
 * roles created on the test server (they are cluster-wide: created if absent, never
 * dropped, so that test files running in parallel never race on them). The database is
 * set up like Supabase's — its default privileges grant everything to anon and
 * authenticated — before the migrations run, as the role that runs them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../loader/warehouse';
import { migrate } from '../../loader/db/migrate';
import { openPostgres } from '../../loader/db/postgres';
import { privateServer } from '../support/embedded';
import { freshDatabase, serverUrl, type TestDatabase } from '../support/database';

const API_ROLES = ['anon', 'authenticated', 'tracker', 'benchsight_service'];
const MEMBER = `bs_test_service_member_${process.pid}`;
const HIDDEN = ['load_history', 'load_rejects', 'etl_queue', 'schema_migrations', 'warehouse_tables', 'warehouse_columns', 'warehouse_relations'];

let test: TestDatabase;
let client: pg.Client;

async function onServer(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  for (const role of API_ROLES) {
    await onServer(
      `DO $$ BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    );
  }
  await onServer(`DROP ROLE IF EXISTS ${MEMBER}; CREATE ROLE ${MEMBER} NOLOGIN IN ROLE benchsight_service`);
  test = await freshDatabase();
  // Supabase's defaults for objects its postgres role creates.
  await test.db.query(`
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated`);
  await migrate(test.db);
  await test.db.query(`
    INSERT INTO dim_team (team_id) VALUES ('T1');
    INSERT INTO fact_h2h (h2h_key, game_id) VALUES ('H1', 18969);
    INSERT INTO load_history (request_id, operation) VALUES (gen_random_uuid(), 'replace');
    GRANT SELECT, INSERT ON load_history TO ${MEMBER};
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${MEMBER}`);
  client = new pg.Client({ connectionString: test.url });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await test?.drop();
  await onServer(`DROP ROLE IF EXISTS ${MEMBER}`);
});

/** Runs the statements as `role` in a transaction that is rolled back; the last one's rows. */
async function as(role: string, ...statements: string[]): Promise<Record<string, unknown>[]> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL ROLE ${role}`);
    let rows: Record<string, unknown>[] = [];
    for (const sql of statements) rows = (await client.query(sql)).rows;
    return rows;
  } finally {
    await client.query('ROLLBACK');
  }
}
const denied = (role: string, sql: string) => expect(as(role, sql)).rejects.toMatchObject({ code: '42501' });

async function publicTables(): Promise<{ name: string; rls: boolean }[]> {
  const r = await test.db.query<{ name: string; rls: boolean }>(`
    SELECT c.relname AS name, c.relrowsecurity AS rls FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`);
  return r.rows;
}

describe('exposure through Supabase API', () => {
  it('enables row-level security on every table of schema public', async () => {
    const tables = await publicTables();
    expect(tables.length).toBeGreaterThanOrEqual(22);
    expect(tables.filter((t) => !t.rls).map((t) => t.name)).toEqual([]);
  });

  for (const role of ['anon', 'authenticated']) {
    it(`lets ${role} read the dims and facts, and write nothing`, async () => {
      expect(await as(role, 'SELECT h2h_key FROM fact_h2h')).toEqual([{ h2h_key: 'H1' }]);
      expect(await as(role, 'SELECT team_id FROM dim_team')).toEqual([{ team_id: 'T1' }]);
      await denied(role, "INSERT INTO fact_h2h (h2h_key, game_id) VALUES ('H2', 1)");
      await denied(role, "UPDATE dim_team SET team_name = 'x'");
      await denied(role, 'DELETE FROM fact_h2h');
    });

    it(`hides load_history, the queue, the rejects, the catalog and staging from ${role}`, async () => {
      for (const table of [...HIDDEN, 'staging_events']) await denied(role, `SELECT 1 FROM ${table} LIMIT 1`);
    });
  }

  it('gives the API roles SELECT on exactly the warehouse tables, despite Supabase default privileges', async () => {
    const r = await test.db.query<{ role: string; table: string; privilege: string }>(`
      SELECT r.role, c.relname AS table, p.privilege
      FROM unnest(ARRAY['anon', 'authenticated']) AS r(role)
      CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege)
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
        AND has_table_privilege(r.role, c.oid, p.privilege)`);
    expect(r.rows.every((x) => x.privilege === 'SELECT')).toBe(true);
    for (const role of ['anon', 'authenticated']) {
      expect(r.rows.filter((x) => x.role === role).map((x) => x.table).sort()).toEqual([...TABLE_NAMES].sort());
    }
  });

  it('lets no API role execute any function', async () => {
    const r = await test.db.query<{ fn: string; role: string }>(`
      SELECT p.oid::regprocedure::text AS fn, r.role FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      CROSS JOIN unnest(ARRAY['anon', 'authenticated', 'tracker']) AS r(role)
      WHERE n.nspname = 'public' AND has_function_privilege(r.role, p.oid, 'EXECUTE')`);
    expect(r.rows).toEqual([]);
    await denied('anon', 'SELECT apply_exposure()');
  });

  it('lets the tracker read, insert and update staging rows, and nothing else', async () => {
    const event = "INSERT INTO staging_events (event_key, game_id, event_index) VALUES ('EV1896900001', 18969, 1)";
    expect(await as('tracker', `${event} RETURNING event_key`)).toEqual([{ event_key: 'EV1896900001' }]);
    expect(
      await as('tracker', event, "UPDATE staging_events SET event_type = 'Shot' WHERE event_key = 'EV1896900001' RETURNING event_type"),
    ).toEqual([{ event_type: 'Shot' }]);
    expect(await as('tracker', "INSERT INTO staging_games (game_id) VALUES (18969) ON CONFLICT (game_id) DO UPDATE SET source = 'tracker' RETURNING game_id")).toEqual([
      { game_id: 18969 },
    ]);
    await denied('tracker', 'DELETE FROM staging_events');
    await denied('tracker', "INSERT INTO fact_h2h (h2h_key, game_id) VALUES ('H3', 1)");
    await denied('tracker', 'SELECT 1 FROM fact_h2h');
    await denied('tracker', 'SELECT 1 FROM load_history');
    await denied('tracker', "INSERT INTO etl_queue (game_id, operation) VALUES (18969, 'process_game')");
  });

  it("queues the game's ETL when the tracker writes GameEnd, though it may not touch etl_queue itself", async () => {
    const rows = await as(
      'tracker',
      "INSERT INTO staging_events (event_key, game_id, event_index, event_type) VALUES ('EV1896900099', 18969, 99, 'GameEnd')",
      'RESET ROLE',
      'SELECT operation, game_id FROM etl_queue WHERE game_id = 18969',
    );
    expect(rows).toEqual([{ operation: 'process_game', game_id: 18969 }]);
  });

  it("lets the stack's own roles (members of benchsight_service) through row-level security", async () => {
    const rows = await as(MEMBER, "INSERT INTO load_history (request_id, operation) VALUES (gen_random_uuid(), 'append') RETURNING operation");
    expect(rows).toEqual([{ operation: 'append' }]);
    expect((await as(MEMBER, 'SELECT count(*)::int AS n FROM load_history'))[0]).toEqual({ n: 1 });
    // Its grants still decide: it was given no right on the facts.
    await denied(MEMBER, 'SELECT 1 FROM fact_h2h');
  });

  it('keeps a table made later hidden, and covers it when apply_exposure() runs again (as the migrate function does)', async () => {
    await test.db.query('CREATE TABLE later_table (id int PRIMARY KEY)');
    const privileges = await test.db.query<{ any: boolean }>(
      `SELECT has_table_privilege('anon', 'later_table', 'SELECT,INSERT,UPDATE,DELETE') OR has_table_privilege('authenticated', 'later_table', 'SELECT,INSERT,UPDATE,DELETE') AS any`,
    );
    expect(privileges.rows[0]!.any).toBe(false);
    await denied('anon', 'SELECT 1 FROM later_table');

    const policiesBefore = await test.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_policies');
    await test.db.query('SELECT apply_exposure()');
    expect((await publicTables()).find((t) => t.name === 'later_table')?.rls).toBe(true);
    await test.db.query('SELECT apply_exposure()');
    const policiesAfter = await test.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_policies');
    // One more table, one more policy (the service role's); running it twice changes nothing.
    expect(policiesAfter.rows[0]!.n).toBe(policiesBefore.rows[0]!.n + 1);
    await test.db.query('DROP TABLE later_table');
  });
});

describe('exposure where the API roles do not exist', () => {
  it('is a no-op on a server without them (the embedded PostgreSQL): no row-level security, no policy, no error', async () => {
    const own = await privateServer();
    const lite = openPostgres({ url: own.server.url });
    try {
      await migrate(lite);
      const rls = await lite.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relrowsecurity",
      );
      expect(rls.rows[0]!.n).toBe(0);
      expect((await lite.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_policies')).rows[0]!.n).toBe(0);
      await lite.query('SELECT apply_exposure()');
    } finally {
      await lite.close();
      await own.stop();
    }
  }, 120_000);
});
