/**
 * The `etl ...` commands as functions, for the CLI and the Slack bot to call:
 *   etl queue <game> [priority <n>]   → etlQueue
 *   etl run [<queue id>]              → etlRun
 * Both take `force` (`--force` in the grammar): the ETL then replaces even the game's rows the
 * full ETL produced (etl_game_provenance), which it otherwise keeps, saying so.
 *   etl status                        → etlStatus
 *   etl log <job> [tail <n>]          → etlLog
 * Each returns data; format*() turn it into the text both entry points print.
 */
import type { Database } from '../db/database';
import type { Handlers, Job } from '../queue/job';
import { enqueue, getJob, queueStatus, type QueueStatus } from '../queue/queue';
import { formatJobLog, jobLog, type JobLogLine } from './job-log';
import type { FailedStep, PipelineResult } from './pipeline-run';
import { runJob, runWorker, type JobOutcome, type WorkerOptions } from '../worker/run-worker';

export class EtlCommandError extends Error {
  override readonly name = 'EtlCommandError';
}

export interface EtlQueueResult {
  jobId: number;
  /** True when a pending ETL of the game existed: the request joined it. */
  joined: boolean;
  gameId: number;
  priority: number;
}

/**
 * Queues the ETL of a game (default priority 5; higher runs first): a game the tracker has
 * sent, unless the team's pipeline runs the ETL (`staged: false`: it reads its own data).
 */
export async function etlQueue(
  db: Database,
  opts: { gameId: number; priority?: number; requestedBy: string; payload?: Record<string, unknown>; staged?: boolean; force?: boolean },
): Promise<EtlQueueResult> {
  if (!Number.isSafeInteger(opts.gameId) || opts.gameId <= 0 || opts.gameId > 2147483647) {
    throw new EtlCommandError(`game id ${JSON.stringify(String(opts.gameId))} is not a positive whole number`);
  }
  if (opts.priority !== undefined && (!Number.isSafeInteger(opts.priority) || Math.abs(opts.priority) > 1_000_000)) {
    throw new EtlCommandError(`priority ${JSON.stringify(String(opts.priority))} is not a whole number`);
  }
  const known = opts.staged === false ? { rows: [1] } : await db.query('SELECT 1 FROM staging_games WHERE game_id = $1', [opts.gameId]);
  if (!known.rows.length) {
    throw new EtlCommandError(`game ${opts.gameId} has not been received from the tracker, so there is nothing to process; send its tracker export first`);
  }
  const r = await enqueue(db, {
    operation: 'process_game',
    gameId: opts.gameId,
    priority: opts.priority ?? 5,
    requestedBy: opts.requestedBy,
    payload: opts.force ? { ...opts.payload, force: true } : opts.payload,
  });
  const job = await db.query<{ priority: number }>('SELECT priority FROM etl_queue WHERE id = $1', [r.jobId]);
  return { ...r, gameId: opts.gameId, priority: job.rows[0]?.priority ?? opts.priority ?? 5 };
}

export interface EtlRunResult {
  outcomes: JobOutcome[];
  /** Set when a given job could not run: why. */
  notRun?: { jobId: number; reason: string; job: Job | null };
}

/**
 * Runs queued work here and now: the given job (whatever its priority or retry time), or
 * every runnable job until the queue has none. `handlers` is the registry (the ETL's
 * process_game, and the engine's load/delete_game when wired).
 */
export async function etlRun(
  db: Database,
  opts: { queueId?: number; initiatedBy: string; handlers: Handlers; force?: boolean } & Pick<
    WorkerOptions,
    'lockTimeoutMs' | 'backoff' | 'onJobFinished' | 'log' | 'signal'
  >,
): Promise<EtlRunResult> {
  const { queueId, initiatedBy, force, ...rest } = opts;
  // With force, the ETL jobs this run takes replace even the full ETL's rows.
  const processGame = rest.handlers.process_game;
  if (force && processGame)
    rest.handlers = { ...rest.handlers, process_game: (job, ctx) => processGame({ ...job, payload: { ...job.payload, force: true } }, ctx) };
  const workerId = `cli:${initiatedBy}:${process.pid}`;
  if (queueId !== undefined) {
    const r = await runJob(db, queueId, { ...rest, workerId });
    return r.ran ? { outcomes: [r.outcome] } : { outcomes: [], notRun: { jobId: queueId, reason: r.reason, job: r.job } };
  }
  const summary = await runWorker(db, { ...rest, workerId, until: 'empty' });
  return { outcomes: summary.outcomes };
}

/** Counts by status, the next jobs in claim order, the running ones and the recent ones. */
export async function etlStatus(db: Database, opts: { limit?: number } = {}): Promise<QueueStatus> {
  return queueStatus(db, opts);
}

export interface EtlLogResult {
  job: Job;
  lines: JobLogLine[];
}

/** A job's log (the pipeline's steps' output and what the runner did), the last `tail` lines when given. */
export async function etlLog(db: Database, opts: { jobId: number; tail?: number }): Promise<EtlLogResult> {
  const job = await getJob(db, opts.jobId);
  if (!job) throw new EtlCommandError(`there is no job ${opts.jobId} in the queue`);
  return { job, lines: await jobLog(db, opts.jobId, { tail: opts.tail }) };
}

// ── Text for the CLI and Slack ──────────────────────────────────────────────────────────

const jobLabel = (j: Job) => `#${j.id} ${j.operation}${j.gameId !== null ? ` game ${j.gameId}` : ''}`;

export function formatEtlQueue(r: EtlQueueResult): string {
  return r.joined
    ? `etl queue: game ${r.gameId} was already queued as job #${r.jobId} (priority ${r.priority}); your request joined it`
    : `etl queue: game ${r.gameId} queued as job #${r.jobId} (priority ${r.priority})`;
}

function outcomeLine(o: JobOutcome): string {
  const base = `${jobLabel(o.job)}: ${o.status} in ${(o.durationMs / 1000).toFixed(1)} s`;
  if (o.status === 'succeeded') {
    const r = o.result as {
      status?: string;
      reason?: string;
      tables?: Record<string, { inserted: number; deleted: number }>;
      findings?: { errors: number; warnings: number };
      trackerFindings?: { count: number; first: string[] };
      warnings?: string[];
      kept?: string[];
    } | null;
    if (r?.status === 'skipped') return `${base} (nothing to do: ${r.reason})`;
    const p = o.result as Partial<PipelineResult> | null;
    if (p?.load && p.steps) {
      const partial = p.status === 'partial' ? `; PARTIAL: ${(p.warnings ?? []).join('; ')}` : '';
      return `${base} (the ETL pipeline's ${p.steps.length} step${p.steps.length === 1 ? '' : 's'}, then its export loaded as history #${p.load.historyId}: ${p.load.inserted} rows inserted, ${p.load.deleted} deleted, ${p.load.rejected} rejected${partial}; etl log ${o.job.id})`;
    }
    const rows = r?.tables
      ? Object.entries(r.tables)
          .map(([t, c]) => `${t} ${c.inserted}`)
          .join(', ')
      : '';
    const f = r?.findings ? `; data quality: ${r.findings.errors} errors, ${r.findings.warnings} warnings` : '';
    const odd = r?.trackerFindings?.count
      ? `; the tracker export has ${r.trackerFindings.count} odd value${r.trackerFindings.count === 1 ? '' : 's'}, used as written:\n    ${r.trackerFindings.first.join('\n    ')}${r.trackerFindings.count > r.trackerFindings.first.length ? '\n    …' : ''}`
      : '';
    // A run that committed but whose checks could not run says so (partial).
    const partial = r?.status === 'partial' ? `; PARTIAL: ${(r.warnings ?? []).join('; ')}` : '';
    // Tables whose full-ETL rows were kept (not replaced without force).
    const kept = r?.kept?.length ? `; kept the full ETL's rows of ${r.kept.join(', ')} (--force replaces them)` : '';
    return `${base}${rows ? ` (rows: ${rows})` : ''}${f}${kept}${partial}${odd}`;
  }
  if (o.status === 'retrying') return `${base}: ${o.error}; next attempt at ${o.nextRunAt}`;
  return `${base}: ${o.error}`;
}

export function formatEtlRun(r: EtlRunResult): string {
  if (r.notRun) return `etl run: ${r.notRun.reason}`;
  if (!r.outcomes.length) return 'etl run: the queue has no job to run now';
  return [`etl run: ${r.outcomes.length} job${r.outcomes.length === 1 ? '' : 's'}`, ...r.outcomes.map(outcomeLine)].join('\n');
}

export function formatEtlStatus(s: QueueStatus): string {
  const c = s.counts;
  const lines = [
    `etl status: ${c.pending} pending${s.waitingForRetry ? ` (${s.waitingForRetry} waiting to retry)` : ''}, ${c.running} running, ${c.succeeded} succeeded, ${c.failed} failed`,
  ];
  if (s.running.length)
    lines.push('running:', ...s.running.map((j) => `  ${jobLabel(j)} on ${j.lockedBy} since ${j.startedAt} (attempt ${j.attempts}/${j.maxAttempts})`));
  if (s.next.length) {
    lines.push(
      'next (priority, then oldest):',
      ...s.next.map(
        (j) =>
          `  ${jobLabel(j)} priority ${j.priority}, requested ${j.requestedAt} by ${j.requestedBy ?? '?'}${j.attempts ? `, retry after ${j.runAfter} (${j.errorMessage})` : ''}`,
      ),
    );
  }
  if (s.recent.length) {
    lines.push(
      'recent:',
      ...s.recent.map((j) =>
        j.status === 'failed' && j.failedStep
          ? `  ${jobLabel(j)} failed ${j.completedAt ?? ''} at ${failedStepText(j.failedStep as FailedStep)} (etl log ${j.id})`
          : `  ${jobLabel(j)} ${j.status} ${j.completedAt ?? ''}${j.status === 'failed' ? `: ${j.errorMessage}` : ''}`,
      ),
    );
  }
  return lines.join('\n');
}

/** `step 2 "fix data integrity" (exit code 3): <its last line>` */
export function failedStepText(f: FailedStep): string {
  const how = f.loadError
    ? `: ${f.loadError}`
    : f.startError
      ? ` (could not start: ${f.startError})`
      : f.timedOut
        ? ` (timed out after ${f.timeoutSeconds} s, killed)`
        : f.signal
          ? ` (killed by ${f.signal})`
          : ` (exit code ${f.exitCode})`;
  const last = f.lastLines.length ? `: ${f.lastLines[f.lastLines.length - 1]}` : '';
  return `step ${f.index} "${f.name}"${how}${f.loadError ? '' : last}`;
}

export function formatEtlLog(r: EtlLogResult): string {
  return formatJobLog(r.job.id, r.lines, r.job);
}
