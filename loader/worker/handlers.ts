/**
 * Job handlers: what a worker does for each operation of the queue. process_game runs the
 * ETL; load and delete_game adapt the load engine (given to them, so the worker does not
 * depend on how a command becomes a LoadRequest).
 */
import type { LoadRequest, LoadResult } from '../engine/request';
import type { Database } from '../db/database';
import { EtlError, runEtl } from '../etl/run-etl';
import { PermanentJobError, type Job, type JobHandler } from '../queue/job';
import { summarizeFindings } from '../quality/validate';

/** process_game: the ETL of job.gameId. Its result (counts, findings) is the job's result. */
export const processGameHandler: JobHandler = async (job, ctx) => {
  if (job.gameId === null) throw new PermanentJobError('a process_game job needs a game id');
  try {
    const r = await runEtl(ctx.db, job.gameId, { initiatedBy: job.requestedBy ?? ctx.workerId });
    const f = summarizeFindings(r.findings, 10);
    return {
      gameId: r.gameId, status: r.status, reason: r.reason, tables: r.tables, historyId: r.historyId,
      unresolvedPlayers: r.unresolvedPlayers,
      findings: { errors: f.errors, warnings: f.warnings, first: f.items.map((x) => `${x.severity} ${x.message}`) },
      durationMs: r.durationMs,
    };
  } catch (err) {
    if (err instanceof EtlError && err.permanent) throw new PermanentJobError(err.message);
    throw err;
  }
};

/**
 * A `load` handler over the engine's load(): `toRequest` turns the job (its payload holds the
 * parsed command) into a LoadRequest. A failed load fails the job without retries: the
 * same files would fail the same way (the error names file, line, column and value).
 */
export function loadJobHandler(
  load: (db: Database, req: LoadRequest) => Promise<LoadResult>,
  toRequest: (job: Job) => LoadRequest | Promise<LoadRequest>,
): JobHandler {
  return async (job, ctx) => {
    const result = await load(ctx.db, await toRequest(job));
    if (result.status === 'failed') throw new PermanentJobError(result.error?.message ?? `the load of job ${job.id} failed`);
    return result;
  };
}

/** A `delete_game` handler over the engine's deleteGame(); payload.dryRun is honoured. */
export function deleteGameJobHandler(
  deleteGame: (db: Database, opts: { gameId: number; initiatedBy: string; dryRun?: boolean }) => Promise<LoadResult>,
): JobHandler {
  return async (job, ctx) => {
    if (job.gameId === null) throw new PermanentJobError('a delete_game job needs a game id');
    const result = await deleteGame(ctx.db, {
      gameId: job.gameId,
      initiatedBy: job.requestedBy ?? ctx.workerId,
      dryRun: job.payload.dryRun === true,
    });
    if (result.status === 'failed') throw new PermanentJobError(result.error?.message ?? `deleting game ${job.gameId} failed`);
    return result;
  };
}
