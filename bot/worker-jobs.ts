/**
 * The worker's side of queued Slack commands: a `command` job carries a SlackJob; the
 * worker runs it with the same runAndReport as the local bot (start, progress and the
 * result go to the job's response_url and channel).
 */
import type { Extensions } from '../loader/commands/execute';
import type { Database } from '../loader/db/database';
import type { Source } from '../loader/engine';
import { PermanentJobError, type JobHandler } from '../loader/queue/job';
import { failureOf, runAndReport, type ChatClient, type SlackJob } from './report';

export const COMMAND_JOB = 'command';

export interface CommandJobDeps {
  source?: (want?: { gameId?: number }) => Promise<Source>;
  client?: ChatClient;
  extensions?: (db: Database) => Extensions;
}

export function commandJobHandler(deps: CommandJobDeps): JobHandler {
  return async (job, ctx) => {
    const slackJob = job.payload as unknown as SlackJob;
    if (!slackJob || typeof slackJob !== 'object' || !slackJob.command || !slackJob.userId) {
      throw new PermanentJobError(`job ${job.id} carries no Slack command`);
    }
    const outcome = await runAndReport(slackJob, {
      db: ctx.db,
      source: deps.source,
      client: deps.client,
      extensions: deps.extensions?.(ctx.db),
      log: ctx.log,
    });
    if (!outcome.ok) throw new PermanentJobError(failureOf(outcome) ?? 'the command failed');
    return outcome.kind === 'load' ? { historyId: outcome.result.historyId, status: outcome.result.status } : { ok: true };
  };
}
