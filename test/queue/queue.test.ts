import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as queue from '../../loader/queue';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());
beforeEach(async () => {
  await t.db.query('DELETE FROM etl_queue');
});

const LOCK = { lockTimeoutMs: 60_000 };
const job = (gameId: number | null, priority?: number, operation = 'process_game') => queue.enqueue(t.db, { operation, gameId, priority, requestedBy: 'test' });

/** Backdates a job's timestamps, as if time had passed. */
const age = (id: number, column: 'requested_at' | 'locked_at' | 'run_after', seconds: number) =>
  t.db.query(`UPDATE etl_queue SET ${column} = ${column} - make_interval(secs => $2) WHERE id = $1`, [id, seconds]);

describe('priority order', () => {
  it('runs higher priority first, then the oldest request', async () => {
    const low = await job(1, 1);
    const oldNormal = await job(2, 5);
    await age(oldNormal.jobId, 'requested_at', 60);
    const newNormal = await job(3, 5);
    const urgent = await job(4, 10);
    const order: number[] = [];
    for (;;) {
      const j = await queue.claim(t.db, 'w', LOCK);
      if (!j) break;
      order.push(j.id);
    }
    expect(order).toEqual([urgent.jobId, oldNormal.jobId, newNormal.jobId, low.jobId]);
  });

  it('claims only the operations asked for', async () => {
    const load = await job(5, 10, 'load');
    const etl = await job(5, 1, 'process_game');
    expect((await queue.claim(t.db, 'w', { ...LOCK, operations: ['process_game'] }))?.id).toBe(etl.jobId);
    expect(await queue.claim(t.db, 'w', { ...LOCK, operations: ['process_game'] })).toBeNull();
    expect((await queue.claim(t.db, 'w', LOCK))?.id).toBe(load.jobId);
  });
});

describe('one pending job per game and operation', () => {
  it('joins a repeated request to the pending job, keeping the higher priority and the joiner', async () => {
    const first = await job(10, 5);
    const second = await queue.enqueue(t.db, {
      operation: 'process_game',
      gameId: 10,
      priority: 10,
      requestedBy: 'slack:U2',
      payload: { response_url: 'https://hooks/x' },
    });
    expect(second).toEqual({ jobId: first.jobId, joined: true });
    const j = (await queue.getJob(t.db, first.jobId))!;
    expect(j.priority).toBe(10);
    expect(j.payload.joined).toEqual([expect.objectContaining({ requested_by: 'slack:U2', payload: { response_url: 'https://hooks/x' } })]);
    // another game or another operation is another job
    expect((await job(11)).joined).toBe(false);
    expect((await job(10, 5, 'load')).joined).toBe(false);
    // jobs without a game are one pending job per operation too
    const all1 = await job(null, 5, 'load');
    expect(await job(null, 5, 'load')).toEqual({ jobId: all1.jobId, joined: true });
  });

  it('queues a new job when the earlier one is already running', async () => {
    const first = await job(12);
    await queue.claim(t.db, 'w', LOCK);
    const second = await job(12);
    expect(second.joined).toBe(false);
    expect(second.jobId).not.toBe(first.jobId);
  });

  it('never makes two pending jobs under concurrent requests', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => job(13)));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect(results.filter((r) => !r.joined)).toHaveLength(1);
  });
});

describe('retries', () => {
  it('retries with a growing delay, then fails keeping every error', async () => {
    const { jobId } = await queue.enqueue(t.db, { operation: 'process_game', gameId: 20, requestedBy: 'test', maxAttempts: 3 });
    const backoff = { baseMs: 10_000, maxMs: 60_000 };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const j = (await queue.claim(t.db, 'w', LOCK))!;
      expect(j).toMatchObject({ id: jobId, attempts: attempt, status: 'running' });
      const after = (await queue.fail(t.db, jobId, 'w', `boom ${attempt}`, { retryInMs: queue.retryDelayMs(attempt, backoff) }))!;
      if (attempt < 3) {
        expect(after.status).toBe('pending');
        const delay = (Date.parse(after.runAfter) - Date.now()) / 1000;
        expect(delay).toBeGreaterThan(10 * 2 ** (attempt - 1) - 5);
        expect(delay).toBeLessThanOrEqual(10 * 2 ** (attempt - 1) + 1);
        // not runnable before its time ...
        expect(await queue.claim(t.db, 'w', LOCK)).toBeNull();
        // ... and runnable after it
        await age(jobId, 'run_after', 3600);
      } else {
        expect(after).toMatchObject({ status: 'failed', errorMessage: 'boom 3', attempts: 3 });
        expect(after.completedAt).not.toBeNull();
        expect((after.result as { errors: { attempt: number; error: string }[] }).errors.map((e) => [e.attempt, e.error])).toEqual([
          [1, 'boom 1'],
          [2, 'boom 2'],
          [3, 'boom 3'],
        ]);
      }
    }
    expect(await queue.claim(t.db, 'w', LOCK)).toBeNull();
  });

  it('computes the backoff: base · 2^(attempt−1), capped', () => {
    const b = { baseMs: 1000, maxMs: 5000 };
    expect([1, 2, 3, 4, 5].map((a) => queue.retryDelayMs(a, b))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('fails a permanent error at once', async () => {
    const { jobId } = await job(21);
    await queue.claim(t.db, 'w', LOCK);
    const after = await queue.fail(t.db, jobId, 'w', 'no such game', { retryInMs: 0, permanent: true });
    expect(after).toMatchObject({ status: 'failed', attempts: 1, errorMessage: 'no such game' });
  });

  it('does not retry when a newer request for the same work is pending: that one will do it', async () => {
    const { jobId } = await job(22);
    await queue.claim(t.db, 'w', LOCK);
    const newer = await job(22);
    const after = await queue.fail(t.db, jobId, 'w', 'boom', { retryInMs: 0 });
    expect(after?.status).toBe('failed');
    expect(after?.errorMessage).toBe(`boom (not retried: job ${newer.jobId} for the same game and operation is pending and will do the work)`);
  });
});

describe('dead workers', () => {
  it('takes back a job whose worker stopped renewing its lock, and the job finishes', async () => {
    const { jobId } = await job(30);
    const ghost = (await queue.claim(t.db, 'ghost', LOCK))!;
    expect(ghost.lockedBy).toBe('ghost');
    // still locked: nobody else gets it
    expect(await queue.claim(t.db, 'rescuer', LOCK)).toBeNull();
    // the ghost is gone; its lock ages past the timeout
    await age(jobId, 'locked_at', 120);
    const taken = (await queue.claim(t.db, 'rescuer', LOCK))!;
    expect(taken).toMatchObject({ id: jobId, lockedBy: 'rescuer', attempts: 2 });
    expect(taken.errorMessage).toMatch(/^attempt 1: worker ghost stopped responding \(its lock expired at .+\); taken back by rescuer$/);
    // the ghost coming back cannot overwrite the outcome
    expect(await queue.complete(t.db, jobId, 'ghost', { from: 'ghost' })).toBeNull();
    expect(await queue.heartbeat(t.db, jobId, 'ghost')).toBe(false);
    expect((await queue.complete(t.db, jobId, 'rescuer', { ok: true }))?.status).toBe('succeeded');
    expect((await queue.getJob(t.db, jobId))?.result).toEqual({ ok: true });
  });

  it('keeps a job whose worker renews its lock', async () => {
    const { jobId } = await job(31);
    await queue.claim(t.db, 'alive', { lockTimeoutMs: 1000 });
    await age(jobId, 'locked_at', 5);
    expect(await queue.heartbeat(t.db, jobId, 'alive')).toBe(true);
    expect(await queue.claim(t.db, 'other', { lockTimeoutMs: 1000 })).toBeNull();
  });

  it('fails an abandoned job that has no attempts left', async () => {
    const { jobId } = await queue.enqueue(t.db, { operation: 'process_game', gameId: 32, requestedBy: 'test', maxAttempts: 1 });
    await queue.claim(t.db, 'ghost', LOCK);
    await age(jobId, 'locked_at', 120);
    expect(await queue.claim(t.db, 'rescuer', LOCK)).toBeNull();
    const j = (await queue.getJob(t.db, jobId))!;
    expect(j.status).toBe('failed');
    expect(j.errorMessage).toMatch(/^worker ghost stopped responding during attempt 1 of 1 .*no attempts left$/);
  });
});

describe('status', () => {
  it('counts jobs by status and lists the next ones in claim order', async () => {
    const a = await job(40, 1);
    const b = await job(41, 9);
    const c = await job(42, 5);
    await queue.claim(t.db, 'w', LOCK); // b
    await queue.complete(t.db, b.jobId, 'w', null);
    await queue.claim(t.db, 'w', LOCK); // c
    const s = await queue.queueStatus(t.db);
    expect(s.counts).toEqual({ pending: 1, running: 1, succeeded: 1, failed: 0 });
    expect(s.next.map((j) => j.id)).toEqual([a.jobId]);
    expect(s.running.map((j) => j.id)).toEqual([c.jobId]);
    expect(s.recent.map((j) => j.id)).toEqual([b.jobId]);
  });
});
