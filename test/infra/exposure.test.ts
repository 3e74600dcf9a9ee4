/**
 * sql/migrations/000006_exposure.sql and 000011_grants.sql: what Supabase's API roles may
 * do, and that no role which merely connects may run a project function on a server
 * without them (a private embedded PostgreSQL, migrated by a non-superuser). The first is
 * checked with the
 * roles created on the test server (they are cluster-wide: created if absent, never
 * dropped, so that test files running in parallel never race on them). The database is
 * set up like Supabase's — its default privileges grant everything to anon and
 * authenticated — before the migrations run, as the role that runs them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../loader/warehouse';
import { checksum, migrate, readMigrations, type Migration } from '../../loader/db/migrate';
import { openPostgres } from '../../loader/db/postgres';
import type { Database, Queryable } from '../../loader/db/database';
import { folderSource, load } from '../../loader/engine';
import { privateServer, type PrivateServer } from '../support/embedded';
import { leagueFolder } from '../bot/support/slack';
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
    await onServer(`DO $$ BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
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

  it('lets authenticated read the dims and facts, and write nothing', async () => {
    expect(await as('authenticated', 'SELECT h2h_key FROM fact_h2h')).toEqual([{ h2h_key: 'H1' }]);
    expect(await as('authenticated', 'SELECT team_id FROM dim_team')).toEqual([{ team_id: 'T1' }]);
    for (const role of ['authenticated', 'anon']) {
      await denied(role, "INSERT INTO fact_h2h (h2h_key, game_id) VALUES ('H2', 1)");
      await denied(role, "UPDATE dim_team SET team_name = 'x'");
      await denied(role, 'DELETE FROM fact_h2h');
    }
  });

  it("lets anon (the project's public API key) read nothing unless bs_settings.api_anon_read says so", async () => {
    await denied('anon', 'SELECT 1 FROM dim_team');
    await test.db.query(`INSERT INTO bs_settings (key, value, description) VALUES ('api_anon_read', 'true', 'test')`);
    try {
      expect((await test.db.query<{ p: boolean }>('SELECT exposure_pending() AS p')).rows[0]!.p).toBe(true);
      await test.db.query('SELECT apply_exposure()');
      expect(await as('anon', 'SELECT team_id FROM dim_team')).toEqual([{ team_id: 'T1' }]);
      await denied('anon', "INSERT INTO dim_team (team_id) VALUES ('T9')");
      await denied('anon', 'SELECT 1 FROM load_history');
    } finally {
      await test.db.query(`DELETE FROM bs_settings WHERE key = 'api_anon_read'`);
      await test.db.query('SELECT apply_exposure()');
    }
    await denied('anon', 'SELECT 1 FROM dim_team');
    expect((await test.db.query<{ p: boolean }>('SELECT exposure_pending() AS p')).rows[0]!.p).toBe(false);
  });

  for (const role of ['anon', 'authenticated']) {
    it(`hides load_history, the queue, the rejects, the catalog and staging from ${role}`, async () => {
      for (const table of [...HIDDEN, 'staging_events']) await denied(role, `SELECT 1 FROM ${table} LIMIT 1`);
    });
  }

  it('gives authenticated SELECT on exactly the warehouse tables, and anon nothing, despite Supabase default privileges', async () => {
    const r = await test.db.query<{ role: string; table: string; privilege: string }>(`
      SELECT r.role, c.relname AS table, p.privilege
      FROM unnest(ARRAY['anon', 'authenticated']) AS r(role)
      CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege)
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
        AND has_table_privilege(r.role, c.oid, p.privilege)`);
    expect(r.rows.every((x) => x.privilege === 'SELECT')).toBe(true);
    const of = (role: string) =>
      r.rows
        .filter((x) => x.role === role)
        .map((x) => x.table)
        .sort();
    expect(of('authenticated')).toEqual([...TABLE_NAMES].sort());
    expect(of('anon')).toEqual([]);
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
    expect(await as('tracker', event, "UPDATE staging_events SET event_type = 'Shot' WHERE event_key = 'EV1896900001' RETURNING event_type")).toEqual([
      { event_type: 'Shot' },
    ]);
    expect(
      await as('tracker', "INSERT INTO staging_games (game_id) VALUES (18969) ON CONFLICT (game_id) DO UPDATE SET source = 'tracker' RETURNING game_id"),
    ).toEqual([{ game_id: 18969 }]);
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

/**
 * Plain PostgreSQL or RDS: no Supabase roles. The stack's roles, as infra/database.ts makes
 * them, on a private server: a migrator that is no superuser (it creates, so owns, every
 * object), a loader with default privileges and grants from the migrator, and a reader
 * that can only connect. No role that merely connects may run a project function.
 */
describe('functions where the Supabase roles do not exist (plain PostgreSQL, RDS)', () => {
  const WH = 'warehouse';
  let own: PrivateServer;
  let su: pg.Client;
  let migrator: Database;
  let loader: Database;
  let reader: pg.Client;
  const urlAs = (user: string, database = WH) => {
    const u = new URL(own.server.url);
    u.username = user;
    u.password = `${user}-pw`;
    u.pathname = `/${database}`;
    return u.toString();
  };
  /** Functions of the project's schemas that PUBLIC, or `role`, may execute. */
  const executable = async (db: Queryable, role = 'public'): Promise<string[]> => {
    const r = await db.query<{ fn: string }>(
      `SELECT p.oid::regprocedure::text AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'landing')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
          AND CASE WHEN $1 = 'public'
                   THEN EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
                   ELSE has_function_privilege($1, p.oid, 'EXECUTE') END
        ORDER BY 1`,
      [role],
    );
    return r.rows.map((x) => x.fn);
  };

  beforeAll(async () => {
    own = await privateServer();
    const admin = new pg.Client({ connectionString: own.server.url });
    await admin.connect();
    await admin.query(`
      CREATE ROLE bs_migrator LOGIN PASSWORD 'bs_migrator-pw';
      CREATE ROLE bs_loader LOGIN PASSWORD 'bs_loader-pw';
      CREATE ROLE bs_reader LOGIN PASSWORD 'bs_reader-pw';
      CREATE ROLE benchsight_service NOLOGIN;
      GRANT benchsight_service TO bs_loader, bs_reader`);
    await admin.query(`CREATE DATABASE ${WH}`);
    await admin.end();
    su = new pg.Client({ connectionString: own.server.url.replace(/\/[^/]*$/, `/${WH}`) });
    await su.connect();
    // What infra/database.ts grants before the migrations run (plus CREATE on the database, for the landing schema).
    await su.query(`
      GRANT CREATE ON DATABASE ${WH} TO bs_migrator;
      GRANT CREATE, USAGE ON SCHEMA public TO bs_migrator;
      GRANT USAGE ON SCHEMA public TO bs_loader, bs_reader;
      ALTER DEFAULT PRIVILEGES FOR ROLE bs_migrator IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO bs_loader;
      ALTER DEFAULT PRIVILEGES FOR ROLE bs_migrator IN SCHEMA public GRANT SELECT, USAGE ON SEQUENCES TO bs_loader`);
    migrator = openPostgres({ url: urlAs('bs_migrator') });
    await migrate(migrator);
    // ... and after them.
    await su.query(`
      GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO bs_loader;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO bs_loader;
      GRANT USAGE ON SCHEMA landing TO bs_loader;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA landing TO bs_loader;
      GRANT SELECT, USAGE ON ALL SEQUENCES IN SCHEMA landing TO bs_loader;
      GRANT SELECT ON ${TABLE_NAMES.join(', ')} TO bs_reader`);
    loader = openPostgres({ url: urlAs('bs_loader') });
    reader = new pg.Client({ connectionString: urlAs('bs_reader') });
    await reader.connect();
  }, 180_000);

  afterAll(async () => {
    await reader?.end();
    await loader?.close();
    await migrator?.close();
    await su?.end();
    await own?.stop();
  });

  it('a role that can merely connect cannot ALTER a warehouse table through bs_add_columns (SECURITY DEFINER)', async () => {
    await reader.query('BEGIN');
    try {
      await reader.query('CREATE TEMP TABLE stage (pwned text); GRANT SELECT ON stage TO PUBLIC');
      await expect(reader.query("SELECT bs_add_columns('dim_team', 'pg_temp.stage'::regclass, ARRAY['pwned'])")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await reader.query('ROLLBACK');
    }
    const cols = await su.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'dim_team' AND column_name = 'pwned'");
    expect(cols.rows).toEqual([]);
  });

  it('PUBLIC, and so the reader, may execute no function of the project', async () => {
    expect(await executable(migrator)).toEqual([]);
    expect(await executable(migrator, 'bs_reader')).toEqual([]);
    await expect(reader.query('SELECT delete_game(1)')).rejects.toMatchObject({ code: '42501' });
  });

  it('the loader still runs every function it needs: a load through the engine succeeds', async () => {
    expect((await executable(migrator, 'bs_loader')).length).toBeGreaterThan(40);
    const r = await load(loader, {
      initiatedBy: 'test',
      scope: { kind: 'category', category: 'dims' },
      operation: 'replace',
      source: folderSource(leagueFolder()),
    });
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    expect(Number((await su.query('SELECT count(*) AS n FROM dim_team')).rows[0].n)).toBe(2);
  });

  /** The migrations of this version, and two that a later version might bring. */
  const later: Migration[] = [
    ...readMigrations(),
    ...[
      ['000901_later.sql', 'CREATE FUNCTION bs_later() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;'],
      [
        '000902_later_granted.sql',
        'CREATE FUNCTION bs_later_granted() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$; GRANT EXECUTE ON FUNCTION bs_later_granted() TO PUBLIC;',
      ],
    ].map(([name, sql]) => ({ version: Number(name!.slice(0, 6)), name: name!, sql: sql!, checksum: checksum(sql!) })),
  ];

  it('functions made later are not executable by PUBLIC either: by a later migration, or by the migrator by hand', async () => {
    expect((await migrate(migrator, { migrations: later })).applied).toEqual(['000901_later.sql', '000902_later_granted.sql']);
    await migrator.query('CREATE FUNCTION bs_by_hand() RETURNS int LANGUAGE sql AS $$ SELECT 3 $$');
    expect(await executable(migrator)).toEqual([]);
    await expect(reader.query('SELECT bs_later()')).rejects.toMatchObject({ code: '42501' });
    expect((await loader.query<{ n: number }>('SELECT bs_later() AS n')).rows).toEqual([{ n: 1 }]);
  });

  it('when the Supabase roles appear later, the next migrate applies the exposure, without a new migration', async () => {
    await su.query(`CREATE ROLE anon NOLOGIN; CREATE ROLE authenticated NOLOGIN`);
    const r = await migrate(migrator, { migrations: later });
    expect(r).toMatchObject({ applied: [], exposure: 'applied' });
    const open = await su.query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity`);
    expect(open.rows).toEqual([]);
    await su.query('BEGIN');
    try {
      await su.query('SET LOCAL ROLE authenticated');
      expect((await su.query('SELECT count(*)::int AS n FROM dim_team')).rows).toEqual([{ n: 2 }]);
      await expect(su.query('SELECT 1 FROM load_history')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await su.query('ROLLBACK');
    }
    expect(await executable(migrator, 'anon')).toEqual([]);
    // The loader (benchsight_service) passes row-level security.
    const again = await load(loader, {
      initiatedBy: 'test',
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'upsert',
      source: folderSource(leagueFolder()),
    });
    expect(again.status, JSON.stringify(again.error)).toBe('succeeded');
    expect(await migrate(migrator, { migrations: later })).toMatchObject({ applied: [], exposure: 'current' });
  });
});
