/**
 * Readers are not blocked by a whole-table replace (issue 16; sql/functions/shadow.sql):
 * the new rows go into the table's shadow, swapped in just before the commit. While the
 * load runs, a dashboard's reads answer from the old rows at once; writers wait and land
 * in the new table; the table comes out as it was declared (indexes, grants, policies,
 * publications); a failure leaves no shadow behind; and a table the shadow cannot stand in
 * for (a view on it) still loads, the old way.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../loader/db/postgres';
import { folderSource, load, type LoadResult } from '../../loader/engine';
import { freshDatabase, loaderRole, terminate, type TestDatabase, whenRunning } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';
import { slowSource } from './slow-source';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const r = await load(t.db, {
    scope: { kind: 'tables', tables: ['dim_player', 'dim_team', 'dim_schedule', 'fact_events'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: folderSource(folderWith(miniLeagueFiles())),
  });
  expect(r.status).toBe('succeeded');
});
afterAll(async () => t?.drop());

/** fact_events rows of game 1001 (the mini league's), keys from `from`. */
function events(n: number, from = 10): string {
  const base = miniLeague().events[0]!;
  return csvFor(
    'fact_events',
    Array.from({ length: n }, (_, i) => ({ ...base, event_key: `EV1001${String(i + from).padStart(5, '0')}`, event_index: `${i + from}.0` })),
  );
}

/** A slow whole-table replace of fact_events (its size unknown: the shadow way), running. */
async function slowReplace(
  csv: string,
  more: Partial<Parameters<typeof load>[1]> = {},
  copying = 'COPY fact_events %',
): Promise<{ done: Promise<LoadResult>; settled: () => boolean }> {
  let settled = false;
  const done = load(t.db, {
    scope: { kind: 'tables', tables: ['fact_events'] },
    operation: 'replace',
    initiatedBy: 'test',
    source: slowSource('fact_events', csv, { chunkBytes: 4000, delayMs: 25 }),
    ...more,
  }).finally(() => (settled = true));
  await whenRunning(t.name, copying);
  return { done, settled: () => settled };
}

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  return c;
}

const count = async (c: { query(sql: string): Promise<{ rows: unknown[] }> }, table = 'fact_events') =>
  Number(((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0] as { n: string }).n);
const shadows = async () => (await t.db.query<{ n: string }>("SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'bs_shadow'::regnamespace")).rows[0]!.n;

describe('a whole-table replace and the table’s readers', () => {
  it('lets a reader read the old rows while it loads, without waiting for it; the new rows once it commits', async () => {
    const before = await count(t.db);
    const keys = (await t.db.query<{ k: string }>('SELECT event_key AS k FROM fact_events ORDER BY 1')).rows.map((r) => r.k);
    const { done, settled } = await slowReplace(events(3000));
    const reader = await client();
    try {
      // A reader that may not wait on a lock at all: the old code's TRUNCATE held the
      // table until the commit, and this query failed with a lock timeout.
      await reader.query("SET lock_timeout = '1ms'");
      expect(await count(reader)).toBe(before);
      expect((await reader.query<{ k: string }>('SELECT event_key AS k FROM fact_events ORDER BY 1')).rows.map((r) => r.k)).toEqual(keys);
      expect(settled()).toBe(false);
      const r = await done;
      expect(r.status).toBe('succeeded');
      expect(await count(reader)).toBe(3000);
    } finally {
      await reader.end();
    }
    expect(await shadows()).toBe('0');
  });

  it('makes a writer wait for the commit, and its row lands in the new table', async () => {
    const { done } = await slowReplace(events(3000, 20_000));
    const writer = await client();
    try {
      const base = miniLeague().events[0]!;
      const insert = writer.query('INSERT INTO fact_events (event_key, game_id, period, event_index) VALUES ($1, $2, $3, $4)', [
        'EV100199999',
        base.game_id,
        1,
        99999,
      ]);
      await whenRunning(t.name, 'INSERT INTO fact_events%', "AND wait_event_type = 'Lock'");
      expect((await done).status).toBe('succeeded');
      await insert;
      expect(await count(t.db)).toBe(3001);
      expect((await t.db.query('SELECT 1 FROM fact_events WHERE event_key = $1', ['EV100199999'])).rowCount).toBe(1);
    } finally {
      await writer.end();
    }
  });

  it('leaves the table as declared: the same schema (indexes, constraints, grants, policies, comments) and its publications', async () => {
    const snapshotSql = readFileSync(path.resolve(__dirname, '../../sql/schema-snapshot.sql'), 'utf8');
    const schema = async () => (await t.db.query<{ s: string }>(snapshotSql)).rows.map((r) => Object.values(r).join('')).join('\n');
    await t.db.query('CREATE PUBLICATION bs_test_readers FOR TABLE fact_events');
    try {
      const before = await schema();
      const oid = (await t.db.query<{ o: number }>("SELECT 'fact_events'::regclass::oid AS o")).rows[0]!.o;
      const { done } = await slowReplace(events(1500, 40_000));
      expect((await done).status).toBe('succeeded');
      // (a new table took the old one's place)
      expect((await t.db.query<{ o: number }>("SELECT 'fact_events'::regclass::oid AS o")).rows[0]!.o).not.toBe(oid);
      expect(await schema()).toBe(before);
      const pub = await t.db.query("SELECT 1 FROM pg_publication_tables WHERE pubname = 'bs_test_readers' AND tablename = 'fact_events'");
      expect(pub.rowCount).toBe(1);
    } finally {
      await t.db.query('DROP PUBLICATION bs_test_readers');
    }
  });

  it('leaves the table as it was, and no shadow, when the load fails half-way (killed connection)', async () => {
    const before = await count(t.db);
    const { done } = await slowReplace(events(3000, 60_000));
    await terminate(await whenRunning(t.name, 'COPY fact_events %'));
    expect((await done).status).toBe('failed');
    expect(await count(t.db)).toBe(before);
    expect(await shadows()).toBe('0');
  });

  it('adds a column a changed export brings (--evolve) to the new table', async () => {
    // (a column the warehouse does not declare: the last one of every line)
    const csv = events(1500, 80_000)
      .split('\n')
      .map((line, i) => (line === '' ? line : `${line},${i === 0 ? 'shot_speed_kph' : '101.5'}`))
      .join('\n');
    // (a file with a column to add is staged first, then inserted into the new table)
    const { done } = await slowReplace(csv, { drift: { newColumns: 'add' } }, 'COPY bs_stage_%');
    const r = await done;
    expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
    const v = await t.db.query<{ v: string }>('SELECT DISTINCT shot_speed_kph::text AS v FROM fact_events');
    expect(v.rows).toEqual([{ v: '101.5' }]);
    expect(await shadows()).toBe('0');
  });

  it('loads a table a view depends on the old way (its readers wait), and the view shows the new rows', async () => {
    await t.db.query('CREATE VIEW bs_test_events AS SELECT event_key, game_id FROM fact_events');
    try {
      const { done } = await slowReplace(events(1200, 90_000));
      const r = await done;
      expect(r.status).toBe('succeeded');
      expect(await count(t.db, 'bs_test_events')).toBe(1200);
      expect(await shadows()).toBe('0');
    } finally {
      await t.db.query('DROP VIEW bs_test_events');
    }
  });

  it('keeps a small whole-table replace (DELETE, no shadow) readable too', async () => {
    const before = await count(t.db, 'dim_team');
    const m = miniLeague();
    let settled = false;
    const done = load(t.db, {
      scope: { kind: 'tables', tables: ['dim_team'] },
      operation: 'replace',
      initiatedBy: 'test',
      source: slowSource('dim_team', csvFor('dim_team', m.teams), { chunkBytes: 20, delayMs: 25, withSize: true }),
    }).finally(() => (settled = true));
    await whenRunning(t.name, 'COPY dim_team %');
    const reader = await client();
    try {
      await reader.query("SET lock_timeout = '1ms'");
      expect(await count(reader, 'dim_team')).toBe(before);
      expect(settled).toBe(false);
    } finally {
      await reader.end();
    }
    expect((await done).status).toBe('succeeded');
  });
});

describe('the SQL API (load_table) with a whole-table replace', () => {
  it('swaps the new table in before it returns, so the caller’s transaction commits', async () => {
    // (load_table reads landing.<table>; a table over 1 MB is replaced through its shadow)
    const big = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events'] },
      operation: 'replace',
      initiatedBy: 'test',
      source: folderSource(folderWith({ 'fact_events.csv': events(20_000, 100_000) })),
    });
    expect(big.status).toBe('succeeded');
    const oid = (await t.db.query<{ o: number }>("SELECT 'fact_events'::regclass::oid AS o")).rows[0]!.o;
    await t.db.query(
      'INSERT INTO landing.fact_events (event_key, game_id, period, event_index) SELECT event_key, game_id::text, period::text, event_index::text FROM fact_events',
    );
    const r = await t.db.query<{ r: { success: boolean } }>("SELECT load_table('fact_events', 'replace') AS r");
    expect(r.rows[0]!.r.success).toBe(true);
    expect(await count(t.db)).toBe(20_000);
    expect((await t.db.query<{ o: number }>("SELECT 'fact_events'::regclass::oid AS o")).rows[0]!.o).not.toBe(oid);
    expect(await shadows()).toBe('0');
  });

  it('lets a loader role that is not the owner, under row-level security, replace a big table the same way', async () => {
    // (as the stack's loader: DML, TRUNCATE and EXECUTE granted, a policy for it on every
    // table; row-level security on, so COPY refuses the table and the file is staged, and
    // bs_delete_scope makes the shadow)
    const role = await loaderRole(t, `bs_readers_${process.pid}`);
    await t.db.query('ALTER TABLE fact_events ENABLE ROW LEVEL SECURITY');
    const owner = async () =>
      (
        await t.db.query<{ o: string; rls: boolean; oid: number }>(
          "SELECT relowner::regrole::text AS o, relrowsecurity AS rls, oid::int AS oid FROM pg_class WHERE oid = 'public.fact_events'::regclass",
        )
      ).rows[0]!;
    const before = await owner();
    const db = openPostgres({ url: role.url });
    try {
      const r = await load(db, {
        scope: { kind: 'tables', tables: ['fact_events'] },
        operation: 'replace',
        initiatedBy: 'test',
        source: folderSource(folderWith({ 'fact_events.csv': events(20_000, 300_000) })),
      });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(await count(t.db)).toBe(20_000);
      const after = await owner();
      expect(after.oid).not.toBe(before.oid);
      expect({ owner: after.o, rls: after.rls }).toEqual({ owner: before.o, rls: true });
      const policies = await t.db.query("SELECT 1 FROM pg_policies WHERE tablename = 'fact_events' AND policyname = 'bs_test_all'");
      expect(policies.rowCount).toBe(1);
      expect(await shadows()).toBe('0');
    } finally {
      await db.close();
      await t.db.query('ALTER TABLE fact_events DISABLE ROW LEVEL SECURITY');
      await role.drop();
    }
  });
});
