/**
 * The queue's `process_game` job. With no pipeline configured: the SQL live ETL of
 * job.gameId (a game the tracker finished, or `etl queue <game>`); its result (counts,
 * findings) is the job's result; a game that was never received fails for good (no
 * retries); `payload.force: true` (`etl queue` / `etl run` with force) replaces even the
 * rows the full ETL produced (etl_game_provenance). With the team's pipeline configured
 * (pipeline-config.ts): the pipeline's steps for the game, then the load of their export
 * (pipeline-run.ts); a failing step fails the job for good (`etl run <job>` runs it again).
 */
import { PermanentJobError, type JobHandler } from '../queue/job';
import { summarizeFindings } from '../quality/findings';
import type { Pipeline } from './pipeline-config';
import { runPipeline } from './pipeline-run';
import { EtlError, runEtl } from './run-etl';

export const processGameHandler: JobHandler = async (job, ctx) => {
  if (job.gameId === null) throw new PermanentJobError('a process_game job needs a game id');
  try {
    const r = await runEtl(ctx.db, job.gameId, { initiatedBy: job.requestedBy ?? ctx.workerId, force: job.payload?.force === true });
    const f = summarizeFindings(r.findings, 10);
    return {
      gameId: r.gameId,
      status: r.status,
      reason: r.reason,
      tables: r.tables,
      historyId: r.historyId,
      unresolvedPlayers: r.unresolvedPlayers,
      kept: r.kept,
      findings: { errors: f.errors, warnings: f.warnings, first: f.items.map((x) => `${x.severity} ${x.message}`) },
      trackerFindings: { count: r.trackerFindings.length, first: r.trackerFindings.slice(0, 10).map((x) => x.message) },
      warnings: r.warnings,
      durationMs: r.durationMs,
    };
  } catch (err) {
    if (err instanceof EtlError && err.permanent) throw new PermanentJobError(err.message);
    throw err;
  }
};

/** `process_game` as the team's pipeline runs it: its steps for job.gameId, then the load of their export. */
export function pipelineHandler(pipeline: Pipeline): JobHandler {
  return async (job, ctx) => {
    if (job.gameId === null) throw new PermanentJobError('a process_game job needs a game id');
    return runPipeline(ctx.db, job, pipeline, { initiatedBy: job.requestedBy ?? ctx.workerId, workerId: ctx.workerId, log: ctx.log });
  };
}

/** The process_game handler: the team's pipeline when one is configured, else the SQL live ETL. */
export function processGameHandlerFor(pipeline: Pipeline | undefined): JobHandler {
  return pipeline ? pipelineHandler(pipeline) : processGameHandler;
}
