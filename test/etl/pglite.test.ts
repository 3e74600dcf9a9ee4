/**
 * The embedded database (PGlite, PostgreSQL 18 in WASM): the ETL migration applies, and
 * the tracker → queue → worker → ETL → data-quality path runs on it as on the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../loader/db/database';
import { migrate } from '../../loader/db/migrate';
import { openPglite } from '../../loader/db/pglite';
import { etlStatus } from '../../loader/etl';
import { enqueue } from '../../loader/queue';
import { validate } from '../../loader/quality';
import { ingestTrackerExport } from '../../loader/tracker';
import { defaultHandlers, runWorker } from '../../loader/worker';
import { syntheticExport } from '../tracker/synthetic-export';

let db: Database;
beforeAll(async () => {
  db = await openPglite(undefined);
  await migrate(db);
});
afterAll(async () => db?.close());

describe('ETL on PGlite', () => {
  it('ingests, queues on GameEnd, runs the ETL in the worker and validates', async () => {
    const r = await ingestTrackerExport(db, syntheticExport({ gameId: 96001 }), { source: 'test', initiatedBy: 'test' });
    expect(r.queued).toMatchObject({ joined: false });
    expect(await enqueue(db, { operation: 'process_game', gameId: 96001, requestedBy: 'again' })).toEqual({ jobId: r.queued!.jobId, joined: true });

    const s = await runWorker(db, { until: 'empty', handlers: defaultHandlers() });
    expect(s).toMatchObject({ processed: 1, succeeded: 1 });
    const counts = await db.query<{ t: string; n: number }>(`
      SELECT 'stats' AS t, count(*)::int AS n FROM fact_player_game_stats WHERE game_id = 96001
      UNION ALL SELECT 'h2h', count(*)::int FROM fact_h2h WHERE game_id = 96001
      UNION ALL SELECT 'goals', sum(goals)::int FROM fact_team_game_stats WHERE game_id = 96001`);
    expect(counts.rows).toEqual([{ t: 'stats', n: 18 }, { t: 'h2h', n: 63 }, { t: 'goals', n: 3 }]);
    expect((await etlStatus(db)).counts).toMatchObject({ succeeded: 1, pending: 0 });
    expect((await validate(db, { gameIds: [96001] })).map((f) => f.rule)).toContain('shifts_per_game');
  });
});
