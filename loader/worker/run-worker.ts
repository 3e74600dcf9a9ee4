/**
 * The worker loop: claim a job, run its handler (renewing the lock meanwhile), record the
 * outcome, repeat. It runs inside the Lambda (loader/entry/worker-lambda.ts), in
 * `benchsight etl run`, or as a long-lived local loop. Several workers may run at once:
 * the queue hands each job to one.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database';
import { PermanentJobError, type Handlers, type Job } from '../queue/job';
import * as queue from '../queue/queue';

export interface WorkerOptions {
  /** The registry: operation → handler. The worker only claims operations it has a handler for. */
  handlers: Handlers;
  /** 'empty': stop when no job is runnable now. An AbortSignal: keep polling until it aborts. */
  until: 'empty' | AbortSignal;
  /** With until 'empty': also stop early when this aborts (e.g. the Lambda's time runs out). */
  signal?: AbortSignal;
  workerId?: string;
  /** A running job whose lock is older than this is presumed abandoned and taken back (default 5 min). */
  lockTimeoutMs?: number;
  /** How often a running job's lock is renewed (default lockTimeoutMs / 4). */
  heartbeatMs?: number;
  /** Idle poll interval with an AbortSignal (default 2 s). */
  pollMs?: number;
  backoff?: queue.Backoff;
  /** Stop after this many jobs. */
  maxJobs?: number;
  /** Told about every finished job, e.g. to answer a Slack response_url. Errors here are logged, not thrown. */
  onJobFinished?: (outcome: JobOutcome) => void | Promise<void>;
  log?: (line: string) => void;
}

export interface JobOutcome {
  job: Job;
  /** retrying: failed, queued again for later; lost: taken back by another worker while running. */
  status: 'succeeded' | 'retrying' | 'failed' | 'lost';
  result?: unknown;
  error?: string;
  /** When a retrying job runs next. */
  nextRunAt?: string;
  durationMs: number;
}

export interface WorkerSummary {
  workerId: string;
  processed: number;
  succeeded: number;
  retrying: number;
  failed: number;
  lost: number;
  outcomes: JobOutcome[];
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60_000;

export function newWorkerId(prefix = 'worker'): string {
  return `${prefix}:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export async function runWorker(db: Database, opts: WorkerOptions): Promise<WorkerSummary> {
  const workerId = opts.workerId ?? newWorkerId();
  const lockTimeoutMs = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(lockTimeoutMs / 4));
  const operations = Object.keys(opts.handlers).filter((k) => opts.handlers[k]);
  const log = opts.log ?? (() => undefined);
  const stopSignal = opts.until === 'empty' ? opts.signal : opts.until;
  const summary: WorkerSummary = { workerId, processed: 0, succeeded: 0, retrying: 0, failed: 0, lost: 0, outcomes: [] };

  while (!stopSignal?.aborted && (opts.maxJobs === undefined || summary.processed < opts.maxJobs)) {
    const job = operations.length ? await queue.claim(db, workerId, { operations, lockTimeoutMs }) : null;
    if (!job) {
      if (opts.until === 'empty') break;
      await sleep(opts.pollMs ?? 2000, stopSignal);
      continue;
    }
    const outcome = await runClaimed(db, job, { ...opts, workerId, lockTimeoutMs, heartbeatMs, log });
    summary.processed++;
    summary[outcome.status]++;
    summary.outcomes.push(outcome);
  }
  return summary;
}

export type RunJobResult = { ran: true; outcome: JobOutcome } | { ran: false; job: Job | null; reason: string };

/**
 * Runs one given job now, whatever its priority or retry time (`etl run <id>`): a pending
 * job, a failed one (one more attempt) or an abandoned running one. Says why not otherwise.
 */
export async function runJob(db: Database, jobId: number, opts: Omit<WorkerOptions, 'until' | 'signal' | 'maxJobs' | 'pollMs'>): Promise<RunJobResult> {
  const workerId = opts.workerId ?? newWorkerId();
  const lockTimeoutMs = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(lockTimeoutMs / 4));
  const log = opts.log ?? (() => undefined);
  const existing = await queue.getJob(db, jobId);
  if (!existing) return { ran: false, job: null, reason: `there is no job ${jobId} in the queue` };
  if (!opts.handlers[existing.operation]) {
    return { ran: false, job: existing, reason: `job ${jobId} is a "${existing.operation}" job, which this worker cannot run` };
  }
  const job = await queue.claimJob(db, jobId, workerId, { lockTimeoutMs });
  if (!job) {
    const now = await queue.getJob(db, jobId);
    const reason =
      now?.status === 'succeeded'
        ? `job ${jobId} already succeeded (${now.completedAt}); queue the work again to repeat it`
        : now?.status === 'running'
          ? `job ${jobId} is running on ${now.lockedBy} since ${now.startedAt}`
          : `job ${jobId} is being claimed by another worker right now`;
    return { ran: false, job: now, reason };
  }
  return { ran: true, outcome: await runClaimed(db, job, { ...opts, workerId, lockTimeoutMs, heartbeatMs, log }) };
}

type RunOptions = Pick<WorkerOptions, 'handlers' | 'backoff' | 'onJobFinished'> & {
  workerId: string;
  lockTimeoutMs: number;
  heartbeatMs: number;
  log: (l: string) => void;
};

/** Runs a job this worker has claimed, then tells onJobFinished. */
async function runClaimed(db: Database, job: Job, opts: RunOptions): Promise<JobOutcome> {
  const outcome = await execute(db, job, opts);
  if (opts.onJobFinished) {
    try {
      await opts.onJobFinished(outcome);
    } catch (err) {
      opts.log(`job ${job.id}: onJobFinished failed: ${errorText(err)}`);
    }
  }
  return outcome;
}

async function execute(db: Database, job: Job, opts: RunOptions): Promise<JobOutcome> {
  const started = Date.now();
  const { workerId, log } = opts;
  const what = `job ${job.id} (${job.operation}${job.gameId !== null ? ` game ${job.gameId}` : ''}, attempt ${job.attempts}/${job.maxAttempts})`;
  log(`${what}: started by ${workerId}`);

  let lost = false;
  let finished = false;
  const beat = setInterval(() => {
    queue.heartbeat(db, job.id, workerId).then(
      (ok) => {
        if (!ok && !lost && !finished) {
          lost = true;
          log(`${what}: taken back by another worker (this worker's lock expired)`);
        }
      },
      (err) => log(`${what}: heartbeat failed: ${errorText(err)}`),
    );
  }, opts.heartbeatMs);
  beat.unref?.();

  const handler = opts.handlers[job.operation];
  try {
    if (!handler) throw new PermanentJobError(`this worker has no handler for operation "${job.operation}"`);
    const result = await handler(job, { db, workerId, log });
    finished = true;
    clearInterval(beat);
    const done = await queue.complete(db, job.id, workerId, result ?? null);
    if (!done) {
      log(`${what}: finished, but the job had been taken back by another worker; its outcome counts`);
      return { job, status: 'lost', result, durationMs: Date.now() - started };
    }
    log(`${what}: succeeded in ${Date.now() - started} ms`);
    return { job: done, status: 'succeeded', result, durationMs: Date.now() - started };
  } catch (err) {
    finished = true;
    clearInterval(beat);
    const error = errorText(err);
    const permanent = err instanceof PermanentJobError;
    const after = await queue.fail(db, job.id, workerId, error, {
      retryInMs: queue.retryDelayMs(job.attempts, opts.backoff),
      permanent,
    });
    if (!after) {
      log(`${what}: failed (${error}), but the job had been taken back by another worker`);
      return { job, status: 'lost', error, durationMs: Date.now() - started };
    }
    if (after.status === 'pending') {
      log(`${what}: failed (${error}); retrying at ${after.runAfter}`);
      return { job: after, status: 'retrying', error, nextRunAt: after.runAfter, durationMs: Date.now() - started };
    }
    log(`${what}: failed for good: ${after.errorMessage ?? error}`);
    return { job: after, status: 'failed', error: after.errorMessage ?? error, durationMs: Date.now() - started };
  } finally {
    clearInterval(beat);
  }
}
