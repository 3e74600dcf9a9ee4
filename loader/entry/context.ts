/**
 * The wiring the entry points share, written once: the queue's job handlers, the ETL and
 * data-quality commands as the command executor's extensions, where a command's loads
 * read their files (a folder, or the drop bucket's latest exports), tracker ingestion,
 * the bot token and the worker's wake-up from the environment. Each entry point (this
 * folder) takes what it needs from here and adds only what is its own. The AWS SDK's
 * clients are imported when first used: a CLI command that reads no bucket, secret or
 * Lambda (`counts`) does not load them.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Extensions } from '../commands/execute';
import type { Database } from '../db/database';
import { folderSource, type Source } from '../engine';
import { etlCommandExtensions } from '../etl';
import { pipelineFromEnv } from '../etl/pipeline-config';
import { processGameHandlerFor } from '../etl/process-game-job';
import type { Handlers } from '../queue/job';
import { s3ConfigFromEnv } from '../s3/config';
import type { TrackerIngest } from '../s3/process-event';
import { ingestTrackerExport } from '../tracker';
import type { WakeEvent } from '../worker/wake';

/** Where a command's loads read their files, opened when a load asks. */
/** Where a command's files come from; a load of one game says which (the bucket then counts that game's drops). */
export type SourceOf = (want?: { gameId?: number }) => Promise<Source>;

/**
 * The queue's job handlers: the ETL of a game (`process_game`): the team's pipeline that
 * BENCHSIGHT_ETL_PIPELINE names (a JSON file, loader/etl/pipeline-config.ts), else the SQL
 * live ETL.
 */
export function jobHandlers(env: NodeJS.ProcessEnv = process.env): Handlers {
  const pipeline = pipelineFromEnv(env);
  // Deployed with the team's pipeline, its ECS task (BENCHSIGHT_ETL_TASK, infra/etl-task.ts) runs process_game: not this worker.
  if (!pipeline && env.BENCHSIGHT_ETL_TASK?.trim()) return {};
  return { process_game: processGameHandlerFor(pipeline) };
}

/** `etl queue|run|status|log` and `validate` for executeCommand; `etl run` runs the jobHandlers() jobs. */
export function commandExtensions(db: Database, log?: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Required<Extensions> {
  const pipeline = Boolean(env.BENCHSIGHT_ETL_PIPELINE?.trim() || env.BENCHSIGHT_ETL_TASK?.trim());
  return etlCommandExtensions(db, { handlers: jobHandlers(env), pipeline, ...(log ? { log } : {}) });
}

/** The files `<table>.csv` (or `.csv.gz`) of a local folder, in UTF-8 or the encoding named. */
export function folderSourceOf(dir: string, opts: { encoding?: string; delimiter?: string } = {}): SourceOf {
  return async () => folderSource(dir, opts);
}

/**
 * The drop bucket's latest exports (loader/s3/source.ts). Imported when a load asks: an
 * entry point that never reads the bucket (the bot Lambda) does not carry S3 reads.
 */
export function bucketSource(s3: S3Client, bucket: string): SourceOf {
  return async (want) => (await import('../s3/source')).latestExportsSource(s3, bucket, want);
}

/** The drop bucket the environment names (DROP_BUCKET; AWS_ENDPOINT_URL_S3 for a local S3), if any. */
export function bucketSourceFromEnv(env: NodeJS.ProcessEnv): SourceOf | undefined {
  const s3c = s3ConfigFromEnv(env);
  const bucket = s3c.bucket;
  if (!bucket) return undefined;
  return async () => {
    const { makeS3Client } = await import('../s3/client');
    return bucketSource(makeS3Client(s3c), bucket)();
  };
}

/**
 * Tracker exports (a `.json` drop, `benchsight ingest`): staged for their game and told in
 * words. `onQueued` runs when the export ended the game, so that its ETL was queued.
 */
export function trackerIngest(db: Database, onQueued?: () => Promise<void>): TrackerIngest {
  return async (input, ctx) => {
    try {
      const r = await ingestTrackerExport(db, input, ctx);
      if (r.queued) await onQueued?.();
      return {
        ok: true,
        historyId: r.historyId,
        text:
          `staged game ${r.gameId} (${r.homeTeam} vs ${r.awayTeam}): ${r.events} events, ${r.shifts} shifts` +
          (r.queued ? `; the game ended, so its ETL is queued (job ${r.queued.jobId}${r.queued.joined ? ', joined a pending one' : ''})` : '') +
          (r.findings.length
            ? `\n${r.findings.length} odd value${r.findings.length === 1 ? '' : 's'}, staged as written:\n  ${r.findings.map((f) => f.message).join('\n  ')}`
            : ''),
      };
    } catch (err) {
      return { ok: false, text: `tracker export not staged: ${(err as Error).message}` };
    }
  };
}

/** The Slack bot token: SLACK_BOT_TOKEN, else the secret SLACK_BOT_TOKEN_SECRET_ARN names; undefined without either. */
export async function slackTokenFromEnv(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const fromSecret = async () => (await import('../aws/secrets')).secretFromEnv('SLACK_BOT_TOKEN_SECRET_ARN', env);
  const token = env.SLACK_BOT_TOKEN?.trim() || (env.SLACK_BOT_TOKEN_SECRET_ARN ? await fromSecret() : '');
  return token || undefined;
}

/** SLACK_API_URL: another Slack Web API (a local stand-in), if set. */
export function slackApiUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.SLACK_API_URL?.trim() || undefined;
}

/** Wakes the worker Lambda WORKER_FUNCTION_NAME (an async invoke); a no-op where none is configured. */
export function workerWakerFromEnv(env: NodeJS.ProcessEnv): (event: WakeEvent) => Promise<void> {
  const name = env.WORKER_FUNCTION_NAME?.trim();
  if (!name) return async () => undefined;
  let lambda: LambdaClient | undefined;
  return async (event) => {
    const [{ LambdaClient }, { wakeWorker }] = await Promise.all([import('@aws-sdk/client-lambda'), import('../worker/wake')]);
    lambda ??= new LambdaClient({});
    return wakeWorker(lambda, name, event);
  };
}
