/**
 * The worker Lambda's handler, invoked as Lambda would (an event and a context), against
 * the test database; the database URL comes through resolveDatabaseUrl from the environment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, getJob } from '../../loader/queue';
import { ingestTrackerExport } from '../../loader/tracker';
import { createWorkerHandler } from '../../loader/entry/worker-lambda';
import { freshDatabase, type TestDatabase } from '../support/database';
import { syntheticExport } from '../tracker/synthetic-export';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

const context = (remainingMs = 300_000) => ({ awsRequestId: 'req-1', getRemainingTimeInMillis: () => remainingMs });

describe('the worker Lambda', () => {
  it('runs the queued ETL of a finished game when woken, and reports what it did', async () => {
    const ingested = await ingestTrackerExport(t.db, syntheticExport({ gameId: 93001 }), { source: 'test', initiatedBy: 'tracker' });
    const lines: string[] = [];
    const handler = createWorkerHandler({ env: { DATABASE_URL: t.url }, log: (l) => lines.push(l) });
    const r = await handler({ reason: 'bot' }, context());
    expect(r).toMatchObject({ workerId: 'lambda:req-1', processed: 1, succeeded: 1, failed: 0 });
    expect(r.jobs).toEqual([{ id: ingested.queued!.jobId, operation: 'process_game', gameId: 93001, status: 'succeeded' }]);
    const job = await getJob(t.db, ingested.queued!.jobId);
    expect(job?.result).toMatchObject({ gameId: 93001, status: 'succeeded', tables: { fact_events: { inserted: expect.any(Number) } } });
    const facts = await t.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_player_game_stats WHERE game_id = 93001');
    expect(Number(facts.rows[0]!.n)).toBe(18);
    expect(lines[0]).toBe('worker lambda:req-1 woken (bot)');
    // a scheduled wake-up with nothing to do
    expect(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, context())).toMatchObject({ processed: 0 });
  });

  it('leaves alone the jobs it has no handler for (load/delete_game until the engine is wired)', async () => {
    const { jobId } = await enqueue(t.db, { operation: 'load', gameId: 1, requestedBy: 'test' });
    const handler = createWorkerHandler({ env: { DATABASE_URL: t.url }, log: () => undefined, handlers: { load: undefined, process_game: async () => null } });
    expect((await handler({}, context())).processed).toBe(0);
    expect((await getJob(t.db, jobId))?.status).toBe('pending');
  });

  it('stops claiming when its time is nearly up', async () => {
    await enqueue(t.db, { operation: 'process_game', gameId: 93002, requestedBy: 'test' });
    const handler = createWorkerHandler({ env: { DATABASE_URL: t.url }, log: () => undefined, safetyMarginMs: 60_000 });
    const r = await handler({}, context(30_000)); // less than the safety margin left
    expect(r.processed).toBe(0);
  });
});
