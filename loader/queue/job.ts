/**
 * What a queued job is, and what a worker does with one. The queue itself is the table
 * etl_queue (sql/migrations/000002_operations.sql) and its functions in
 * sql/functions/queue.sql; queue.ts calls them.
 */
import type { Database } from '../db/database';

export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The operations the product queues. Handlers are registered per operation. */
export type Operation = 'process_game' | 'load' | 'delete_game';

export interface Job {
  id: number;
  gameId: number | null;
  operation: string;
  tables: string[] | null;
  /** Free-form JSON: the parsed command, the requesting Slack user, a response_url ... */
  payload: Record<string, unknown>;
  status: JobStatus;
  /** Higher runs first; then the oldest request. */
  priority: number;
  attempts: number;
  maxAttempts: number;
  runAfter: string;
  lockedBy: string | null;
  lockedAt: string | null;
  requestedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  /** The handler's result when succeeded; { errors: [...] } (one per failed attempt) otherwise. */
  result: unknown;
  /** The last failed attempt's error (kept after a later success). */
  errorMessage: string | null;
  requestedBy: string | null;
  /** The step a pipeline job failed at (loader/etl/pipeline-run.ts FailedStep), or null. */
  failedStep: unknown;
}

export interface JobContext {
  db: Database;
  workerId: string;
  log: (line: string) => void;
}

/** Runs one job; what it resolves to (JSON) is stored as the job's result. Throwing fails the attempt. */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<unknown>;

/** The registry a worker dispatches through: operation → handler. */
export type Handlers = Partial<Record<Operation, JobHandler>> & Record<string, JobHandler | undefined>;

/**
 * Thrown by a handler when retrying cannot help (bad input, unknown game ...): the job
 * fails at once, with this message, whatever attempts it has left.
 */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/** The etl_queue row as the database returns it. */
export interface JobRow {
  id: string | number;
  game_id: number | null;
  operation: string;
  tables: string[] | null;
  payload: Record<string, unknown> | null;
  status: JobStatus;
  priority: number;
  attempts: number;
  max_attempts: number;
  run_after: string;
  locked_by: string | null;
  locked_at: string | null;
  requested_at: string;
  started_at: string | null;
  completed_at: string | null;
  result: unknown;
  error_message: string | null;
  requested_by: string | null;
  failed_step?: unknown;
}

export function jobFromRow(r: JobRow): Job {
  return {
    id: Number(r.id),
    gameId: r.game_id,
    operation: r.operation,
    tables: r.tables,
    payload: r.payload ?? {},
    status: r.status,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    lockedBy: r.locked_by,
    lockedAt: r.locked_at,
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    result: r.result,
    errorMessage: r.error_message,
    requestedBy: r.requested_by,
    failedStep: r.failed_step ?? null,
  };
}
