import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres } from '../../loader/db/postgres';
import { enqueue, getJob, PermanentJobError, type Handlers, type Job } from '../../loader/queue';
import { runJob, runWorker, type JobOutcome } from '../../loader/worker';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());
beforeEach(async () => {
  await t.db.query('DELETE FROM etl_queue');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const queueJob = (gameId: number, opts: { priority?: number; operation?: string; maxAttempts?: number } = {}) =>
  enqueue(t.db, { operation: opts.operation ?? 'process_game', gameId, priority: opts.priority, requestedBy: 'test', maxAttempts: opts.maxAttempts });

describe('runWorker', () => {
  it('works through the queue in priority order until it is empty, recording results', async () => {
    const low = await queueJob(1, { priority: 1 });
    const high = await queueJob(2, { priority: 9 });
    const seen: number[] = [];
    const finished: JobOutcome[] = [];
    const s = await runWorker(t.db, {
      until: 'empty',
      handlers: {
        process_game: async (job) => {
          seen.push(job.id);
          return { game: job.gameId };
        },
      },
      onJobFinished: (o) => {
        finished.push(o);
      },
    });
    expect(seen).toEqual([high.jobId, low.jobId]);
    expect(s).toMatchObject({ processed: 2, succeeded: 2, failed: 0 });
    expect(finished.map((o) => o.status)).toEqual(['succeeded', 'succeeded']);
    expect(await getJob(t.db, low.jobId)).toMatchObject({ status: 'succeeded', result: { game: 1 } });
  });

  it('leaves jobs it has no handler for to other workers', async () => {
    const load = await queueJob(3, { operation: 'load', priority: 10 });
    const s = await runWorker(t.db, { until: 'empty', handlers: { process_game: async () => null } });
    expect(s.processed).toBe(0);
    expect((await getJob(t.db, load.jobId))?.status).toBe('pending');
  });

  it('retries a failing job with backoff and keeps the errors; a permanent error fails at once', async () => {
    const flaky = await queueJob(4, { maxAttempts: 3 });
    const broken = await queueJob(5, { maxAttempts: 3 });
    let calls = 0;
    const handlers: Handlers = {
      process_game: async (job) => {
        if (job.gameId === 5) throw new PermanentJobError('game 5 does not exist');
        calls++;
        if (calls < 3) throw new Error(`transient failure ${calls}`);
        return 'ok';
      },
    };
    const stop = new AbortController();
    const outcomes: JobOutcome[] = [];
    const run = runWorker(t.db, {
      until: stop.signal,
      pollMs: 20,
      handlers,
      backoff: { baseMs: 100, maxMs: 1000 },
      onJobFinished: (o) => {
        outcomes.push(o);
        if (o.status === 'succeeded') stop.abort();
      },
    });
    await run;
    expect(outcomes.map((o) => `${o.job.gameId}:${o.status}`)).toEqual(['4:retrying', '5:failed', '4:retrying', '4:succeeded']);
    expect(outcomes[0]!.nextRunAt).toBeDefined();
    expect(await getJob(t.db, flaky.jobId)).toMatchObject({ status: 'succeeded', attempts: 3, errorMessage: 'transient failure 2' });
    expect(await getJob(t.db, broken.jobId)).toMatchObject({ status: 'failed', attempts: 1, errorMessage: 'game 5 does not exist' });
  });

  it('with an AbortSignal, picks up jobs queued later and stops when aborted', async () => {
    const stop = new AbortController();
    const seen: number[] = [];
    const run = runWorker(t.db, { until: stop.signal, pollMs: 25, handlers: { process_game: async (j) => void seen.push(j.gameId!) } });
    await sleep(100);
    await queueJob(6);
    for (let i = 0; i < 100 && !seen.length; i++) await sleep(25);
    stop.abort();
    expect((await run).processed).toBe(1);
    expect(seen).toEqual([6]);
  });

  it('several workers in parallel never run one job twice', async () => {
    const ids = [];
    for (let g = 100; g < 140; g++) ids.push((await queueJob(g, { priority: g % 3 })).jobId);
    const runs: number[] = [];
    const handler = async (job: Job) => {
      runs.push(job.id);
      await sleep(Math.random() * 15);
      return null;
    };
    const pools = Array.from({ length: 4 }, () => openPostgres({ url: t.url, max: 2 }));
    try {
      const summaries = await Promise.all(
        pools.map((db, i) => runWorker(db, { until: 'empty', workerId: `parallel-${i}`, handlers: { process_game: handler } })),
      );
      expect(runs.length).toBe(ids.length);
      expect(new Set(runs).size).toBe(ids.length);
      expect(summaries.reduce((n, s) => n + s.succeeded, 0)).toBe(ids.length);
      expect(summaries.filter((s) => s.processed > 0).length).toBeGreaterThan(1);
      const r = await t.db.query<{ status: string; attempts: number; n: string }>('SELECT status, attempts, count(*) AS n FROM etl_queue GROUP BY 1, 2');
      expect(r.rows).toEqual([{ status: 'succeeded', attempts: 1, n: String(ids.length) }]);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('a live worker keeps its slow job: its heartbeat renews the lock', async () => {
    const { jobId } = await queueJob(7);
    const slow = runWorker(t.db, {
      until: 'empty',
      workerId: 'slow',
      lockTimeoutMs: 500,
      heartbeatMs: 100,
      handlers: {
        process_game: async () => {
          await sleep(1500);
          return 'done';
        },
      },
    });
    const stop = new AbortController();
    const other = runWorker(t.db, { until: stop.signal, workerId: 'other', pollMs: 50, lockTimeoutMs: 500, handlers: { process_game: async () => 'stolen' } });
    expect((await slow).succeeded).toBe(1);
    stop.abort();
    expect((await other).processed).toBe(0);
    expect(await getJob(t.db, jobId)).toMatchObject({ status: 'succeeded', attempts: 1, result: 'done', lockedBy: 'slow' });
  });

  it('takes back the job of a worker process killed mid-job, and finishes it', async () => {
    const { jobId } = await queueJob(8);
    // node itself runs the worker (tsx as a loader), so the process killed is the worker
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures/doomed-worker.ts')], {
      env: { ...process.env, TEST_DATABASE_URL: t.url, LOCK_TIMEOUT_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    for (let i = 0; i < 300 && !out.includes('claimed'); i++) await sleep(50);
    expect(out).toContain(`claimed ${jobId}`);
    expect(await getJob(t.db, jobId)).toMatchObject({ status: 'running', lockedBy: 'doomed-child' });

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // while the lock is fresh nobody takes the job; once it has expired the job is taken back
    const early = await runWorker(t.db, { until: 'empty', lockTimeoutMs: 1000, handlers: { process_game: async () => 'rescued' } });
    expect(early.processed).toBe(0);
    await sleep(1200);
    const rescue = await runWorker(t.db, { until: 'empty', workerId: 'rescuer', lockTimeoutMs: 1000, handlers: { process_game: async () => 'rescued' } });
    expect(rescue.succeeded).toBe(1);
    const j = await getJob(t.db, jobId);
    expect(j).toMatchObject({ status: 'succeeded', attempts: 2, lockedBy: 'rescuer', result: 'rescued' });
    expect(j?.errorMessage).toContain('worker doomed-child stopped responding');
  });
});

describe('runJob (etl run <id>)', () => {
  it('runs the given job now, whatever its priority or retry time, and says why when it cannot', async () => {
    await queueJob(9, { priority: 10 });
    const low = await queueJob(10, { priority: 1 });
    await t.db.query("UPDATE etl_queue SET run_after = now() + interval '1 hour' WHERE id = $1", [low.jobId]);
    const handlers = { process_game: async (j: Job) => j.gameId };
    const r = await runJob(t.db, low.jobId, { handlers });
    expect(r).toMatchObject({ ran: true, outcome: { status: 'succeeded', result: 10 } });
    expect(await runJob(t.db, low.jobId, { handlers })).toMatchObject({ ran: false, reason: expect.stringContaining('already succeeded') });
    expect(await runJob(t.db, 424242, { handlers })).toMatchObject({ ran: false, reason: 'there is no job 424242 in the queue' });
    const load = await queueJob(11, { operation: 'load' });
    expect(await runJob(t.db, load.jobId, { handlers })).toMatchObject({ ran: false, reason: expect.stringContaining('"load" job') });
  });

  it('gives a failed job one more attempt', async () => {
    const { jobId } = await queueJob(12, { maxAttempts: 1 });
    await runWorker(t.db, {
      until: 'empty',
      handlers: {
        process_game: async () => {
          throw new Error('first try fails');
        },
      },
    });
    expect((await getJob(t.db, jobId))?.status).toBe('failed');
    const r = await runJob(t.db, jobId, { handlers: { process_game: async () => 'second try works' } });
    expect(r).toMatchObject({ ran: true, outcome: { status: 'succeeded' } });
    expect(await getJob(t.db, jobId)).toMatchObject({ status: 'succeeded', attempts: 2, maxAttempts: 2 });
  });
});
