/**
 * Big loads into empty tables go without the table's indexes and build them again
 * after (bs_indexes_park / bs_indexes_restore, 000007): the table must come out with
 * exactly the indexes it had, the same rows and rejects as any load, and no
 * transaction may ever commit a table left without its indexes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource, load } from '../../loader/engine';
import { generateExport } from '../../loader/generate';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
let dir: string;
const PARENTS = ['dim_player', 'dim_team', 'dim_schedule', 'fact_events'];

async function indexOids(table: string): Promise<string[]> {
  return (await t.db.query<{ o: string }>('SELECT indexrelid::text AS o FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1', [table])).rows.map((x) => x.o);
}

async function indexes(table: string): Promise<string[]> {
  const r = await t.db.query<{ d: string }>(
    `SELECT pg_get_indexdef(i.indexrelid) || coalesce(' / ' || c.conname || ' ' || pg_get_constraintdef(c.oid), '') AS d
     FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
     WHERE i.indrelid = $1::regclass ORDER BY 1`,
    [table],
  );
  return r.rows.map((x) => x.d);
}

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  dir = mkdtempSync(path.join(tmpdir(), 'benchsight-bulk-'));
  // 9 generated games: ~25,000 event-player rows, more than the bulk threshold (5,000).
  await generateExport({ games: 9, outDir: dir, seed: 11 });
  const r = await load(t.db, { scope: { kind: 'tables', tables: PARENTS }, operation: 'replace', source: folderSource(dir), initiatedBy: 'test' });
  expect(r.status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  await t?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a big load into an empty table', () => {
  it('loads every row and rebuilds exactly the indexes the table had', async () => {
    const before = await indexes('fact_events_player');
    const oids = await indexOids('fact_events_player');
    expect(before.length).toBe(3);
    const r = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events_player'] },
      operation: 'upsert',
      source: folderSource(dir),
      initiatedBy: 'test',
    });
    expect(r.status).toBe('succeeded');
    const fep = r.tables[0]!;
    expect(fep.inserted).toBeGreaterThan(20_000);
    expect(fep.inserted + fep.rejected).toBe(fep.rowsInFile);
    expect(await indexes('fact_events_player')).toEqual(before);
    // built again (new indexes), not kept up row by row
    expect((await indexOids('fact_events_player')).filter((o) => oids.includes(o))).toEqual([]);
    expect((await t.db.query('SELECT count(*)::int AS n FROM fact_events_player')).rows[0]).toEqual({ n: fep.inserted });
    expect((await t.db.query('SELECT count(*)::int AS n FROM bs_parked_indexes')).rows[0]).toEqual({ n: 0 });
    // The rebuilt primary key holds: the same file again changes nothing and adds nothing,
    // and a table with rows keeps its indexes.
    const kept = await indexOids('fact_events_player');
    const again = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events_player'] },
      operation: 'upsert',
      source: folderSource(dir),
      initiatedBy: 'test',
    });
    expect(again.tables[0]).toMatchObject({ inserted: 0, updated: 0, unchanged: fep.inserted });
    expect(await indexOids('fact_events_player')).toEqual(kept);
  });

  it('a whole-table replace of a full table goes the same way', async () => {
    const before = await indexes('fact_events_player');
    const r = await load(t.db, {
      scope: { kind: 'tables', tables: ['fact_events_player'] },
      operation: 'replace',
      source: folderSource(dir),
      initiatedBy: 'test',
    });
    expect(r.status).toBe('succeeded');
    expect(r.tables[0]!.deleted).toBe(r.tables[0]!.inserted);
    expect(await indexes('fact_events_player')).toEqual(before);
  });

  it('leaves the indexes of a table whose replica identity is one of them', async () => {
    await t.db.query('ALTER TABLE fact_events_player REPLICA IDENTITY USING INDEX fact_events_player_pkey');
    try {
      await t.db.query('TRUNCATE fact_events_player');
      const oids = await indexOids('fact_events_player');
      const r = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events_player'] },
        operation: 'upsert',
        source: folderSource(dir),
        initiatedBy: 'test',
      });
      expect(r.status).toBe('succeeded');
      expect(r.tables[0]!.inserted).toBeGreaterThan(20_000);
      expect(await indexOids('fact_events_player')).toEqual(oids);
    } finally {
      await t.db.query('ALTER TABLE fact_events_player REPLICA IDENTITY DEFAULT');
    }
  });

  it('a table another table points to with a foreign key is still replaced, by DELETE', async () => {
    await t.db.query('CREATE TABLE my_notes (event_player_key text REFERENCES fact_events_player (event_player_key) ON DELETE CASCADE)');
    try {
      const oids = await indexOids('fact_events_player');
      const r = await load(t.db, {
        scope: { kind: 'tables', tables: ['fact_events_player'] },
        operation: 'replace',
        source: folderSource(dir),
        initiatedBy: 'test',
      });
      expect(r.status, JSON.stringify(r.error)).toBe('succeeded');
      expect(r.tables[0]!.deleted).toBe(r.tables[0]!.inserted);
      // its primary key is needed by the foreign key: kept, not rebuilt
      expect(await indexOids('fact_events_player')).toEqual(oids);
    } finally {
      await t.db.query('DROP TABLE my_notes');
    }
  });

  it('a transaction that parks indexes and does not restore them cannot commit', async () => {
    const before = await indexes('fact_events_player');
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query("SELECT bs_indexes_park('fact_events_player')");
      }),
    ).rejects.toThrow(/not built again: the transaction cannot commit/);
    expect(await indexes('fact_events_player')).toEqual(before);
  });

  it('parks only warehouse tables, and only for a role that may insert into them', async () => {
    await expect(t.db.query("SELECT bs_indexes_park('load_history')")).rejects.toThrow(/unknown table/);
    const role = `bs_ro_${process.pid}`;
    await t.db.query(`DROP ROLE IF EXISTS ${role}`);
    await t.db.query(`CREATE ROLE ${role} LOGIN`);
    await t.db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    await t.db.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${role}`);
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query(`SET SESSION AUTHORIZATION ${role}`);
      expect((await c.query("SELECT bs_indexes_park('fact_events_player') AS n")).rows).toEqual([{ n: 0 }]);
      await expect(c.query("INSERT INTO bs_parked_indexes (table_name, index_name, definition) VALUES ('x', 'y', 'DROP TABLE dim_player')")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await c.end();
      await t.db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
      await t.db.query(`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM ${role}`);
      await t.db.query(`DROP ROLE ${role}`);
    }
    expect((await indexes('fact_events_player')).length).toBe(3);
  });
});
