/**
 * The job queue's operations, each one call of its SQL function (sql/functions/queue.sql):
 * enqueue (or join the pending duplicate), claim (FOR UPDATE SKIP LOCKED, taking back the
 * jobs of dead workers), heartbeat, complete, fail (retry with backoff or give up), and
 * the reads behind `etl status`.
 */
import type { Queryable } from '../db/database';
import { jobFromRow, type Job, type JobRow, type JobStatus } from './job';

export interface EnqueueRequest {
  operation: string;
  gameId?: number | null;
  payload?: Record<string, unknown>;
  /** Higher runs first (default 5; a finished game's ETL is queued with 10). */
  priority?: number;
  requestedBy: string;
  /** Attempts before the job is failed for good (default 3). */
  maxAttempts?: number;
}

export interface Enqueued {
  jobId: number;
  /** True when a pending job for the same game and operation existed: the request joined it. */
  joined: boolean;
}

export async function enqueue(db: Queryable, r: EnqueueRequest): Promise<Enqueued> {
  const res = await db.query<{ job_id: string; joined: boolean }>('SELECT job_id, joined FROM etl_queue_enqueue($1, $2, $3::jsonb, $4, $5, $6)', [
    r.operation,
    r.gameId ?? null,
    JSON.stringify(r.payload ?? {}),
    r.priority ?? null,
    r.requestedBy,
    r.maxAttempts ?? null,
  ]);
  const row = res.rows[0]!;
  return { jobId: Number(row.job_id), joined: row.joined };
}

const interval = (ms: number) => `${Math.max(0, Math.round(ms))} milliseconds`;

/** The next runnable job among `operations` (all when omitted), now running for `workerId`; null when none. */
export async function claim(db: Queryable, workerId: string, opts: { operations?: string[]; lockTimeoutMs: number }): Promise<Job | null> {
  const res = await db.query<JobRow>('SELECT * FROM etl_queue_claim($1, $2::text[], $3::interval)', [
    workerId,
    opts.operations ?? null,
    interval(opts.lockTimeoutMs),
  ]);
  const row = res.rows[0];
  return row && row.id !== null ? jobFromRow(row) : null;
}

/** One given job, now, whatever its priority: null when it is running elsewhere, succeeded, or unknown. */
export async function claimJob(db: Queryable, jobId: number, workerId: string, opts: { lockTimeoutMs: number }): Promise<Job | null> {
  const res = await db.query<JobRow>('SELECT * FROM etl_queue_claim_job($1, $2, $3::interval)', [jobId, workerId, interval(opts.lockTimeoutMs)]);
  const row = res.rows[0];
  return row && row.id !== null ? jobFromRow(row) : null;
}

/** Renews the lock; false when the job has been taken back from this worker. */
export async function heartbeat(db: Queryable, jobId: number, workerId: string): Promise<boolean> {
  const res = await db.query<{ ok: boolean }>('SELECT etl_queue_heartbeat($1, $2) AS ok', [jobId, workerId]);
  return Boolean(res.rows[0]?.ok);
}

/** Marks the job succeeded; null when it was taken back from this worker meanwhile. */
export async function complete(db: Queryable, jobId: number, workerId: string, result: unknown): Promise<Job | null> {
  const res = await db.query<JobRow>('SELECT * FROM etl_queue_complete($1, $2, $3::jsonb)', [
    jobId,
    workerId,
    JSON.stringify(result === undefined ? null : result),
  ]);
  const row = res.rows[0];
  return row && row.id !== null ? jobFromRow(row) : null;
}

/**
 * Records a failed attempt: back to pending after `retryInMs` while attempts are left (and
 * the failure is not permanent), else failed. Null when the job was taken back meanwhile.
 */
export async function fail(
  db: Queryable,
  jobId: number,
  workerId: string,
  error: string,
  opts: { retryInMs: number; permanent?: boolean },
): Promise<Job | null> {
  const res = await db.query<JobRow>('SELECT * FROM etl_queue_fail($1, $2, $3, $4::interval, $5)', [
    jobId,
    workerId,
    error,
    interval(opts.retryInMs),
    Boolean(opts.permanent),
  ]);
  const row = res.rows[0];
  return row && row.id !== null ? jobFromRow(row) : null;
}

export interface Backoff {
  /** Delay before the 2nd attempt; it doubles each attempt. */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 15 * 60_000 };

/** Delay before the next attempt after `attempts` failed ones: base · 2^(attempts−1), capped. */
export function retryDelayMs(attempts: number, b: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempts - 1));
}

export async function getJob(db: Queryable, jobId: number): Promise<Job | null> {
  const res = await db.query<JobRow>('SELECT * FROM etl_queue WHERE id = $1', [jobId]);
  return res.rows[0] ? jobFromRow(res.rows[0]) : null;
}

export interface QueueStatus {
  counts: Record<JobStatus, number>;
  /** Pending jobs waiting for their retry time (run_after in the future). */
  waitingForRetry: number;
  /** Pending jobs in the order workers will take them. */
  next: Job[];
  running: Job[];
  /** The most recently finished jobs (succeeded or failed), newest first. */
  recent: Job[];
}

export async function queueStatus(db: Queryable, opts: { limit?: number } = {}): Promise<QueueStatus> {
  const limit = opts.limit ?? 10;
  const counts = await db.query<{ status: JobStatus; n: string }>('SELECT status, count(*) AS n FROM etl_queue GROUP BY status');
  const waiting = await db.query<{ n: string }>("SELECT count(*) AS n FROM etl_queue WHERE status = 'pending' AND run_after > now()");
  const next = await db.query<JobRow>("SELECT * FROM etl_queue WHERE status = 'pending' ORDER BY run_after > now(), priority DESC, requested_at, id LIMIT $1", [
    limit,
  ]);
  const running = await db.query<JobRow>("SELECT * FROM etl_queue WHERE status = 'running' ORDER BY started_at LIMIT $1", [limit]);
  const recent = await db.query<JobRow>(
    "SELECT * FROM etl_queue WHERE status IN ('succeeded', 'failed') ORDER BY completed_at DESC NULLS LAST, id DESC LIMIT $1",
    [limit],
  );
  const byStatus: Record<JobStatus, number> = { pending: 0, running: 0, succeeded: 0, failed: 0 };
  for (const r of counts.rows) byStatus[r.status] = Number(r.n);
  return {
    counts: byStatus,
    waitingForRetry: Number(waiting.rows[0]?.n ?? 0),
    next: next.rows.map(jobFromRow),
    running: running.rows.map(jobFromRow),
    recent: recent.rows.map(jobFromRow),
  };
}
