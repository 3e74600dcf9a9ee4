/**
 * The worker Lambda (bundled to dist/worker/index.js). Woken by the Slack bot and the S3
 * loader (an async invoke after they queue work) and by a schedule (retries, taken-back
 * jobs): it works through the queue until nothing is runnable or its time is nearly up.
 * Everything else lives in runWorker; this only translates the invocation. It runs the
 * ETL (process_game) and queued Slack commands, whose loads read the drop bucket
 * (DROP_BUCKET) and whose answers go to Slack with the bot token
 * (SLACK_BOT_TOKEN_SECRET_ARN).
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { commandJobHandler, COMMAND_JOB } from '../../bot/worker-jobs';
import { slackClient } from '../../bot/report';
import { resolveDatabaseUrl } from '../aws/secrets';
import type { Database } from '../db/database';
import { openPostgres } from '../db/postgres';
import type { Handlers } from '../queue/job';
import { runJob, runWorker, type JobOutcome, type WorkerOptions, type WorkerSummary } from '../worker/run-worker';
import { createLogger, lineLog } from '../log';
import { bucketSourceFromEnv, commandExtensions, jobHandlers, slackApiUrlFromEnv, slackTokenFromEnv } from './context';

/** What the bot and the S3 loader send (wake.ts); a scheduled event carries other fields, ignored. */
const WorkerEvent = z
  .object({
    reason: z.string().optional(),
    /** Run this job first, whatever its priority. */
    jobId: z.number().int().positive().optional(),
  })
  .loose();

/** runWorker's summary, with each job's outcome cut to what the invocation reports. */
export interface WorkerLambdaResult extends Omit<WorkerSummary, 'outcomes'> {
  jobs: { id: number; operation: string; gameId: number | null; status: JobOutcome['status']; error?: string }[];
}

export interface WorkerLambdaDeps {
  handlers?: Handlers;
  resolveUrl?: (env: NodeJS.ProcessEnv) => Promise<string>;
  openDb?: (url: string) => Database;
  env?: NodeJS.ProcessEnv;
  /** Stop claiming jobs when less than this is left of the invocation (default 60 s). */
  safetyMarginMs?: number;
  worker?: Pick<WorkerOptions, 'lockTimeoutMs' | 'heartbeatMs' | 'backoff' | 'onJobFinished'>;
  log?: (line: string) => void;
}

/** JSON lines to CloudWatch: level, time, service, and each invocation's request id. */
const logger = createLogger({ service: 'benchsight-worker', level: process.env.LOG_LEVEL });

export function createWorkerHandler(deps: WorkerLambdaDeps = {}) {
  let cached: { url: string; db: Database } | undefined;
  let handlers: Handlers | undefined;

  return async function handler(event: unknown, context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>): Promise<WorkerLambdaResult> {
    const log = deps.log ?? lineLog(logger.child({ requestId: context.awsRequestId }), 'worker');
    const parsed = WorkerEvent.safeParse(event ?? {});
    const ev = parsed.success ? parsed.data : {};
    const url = await (deps.resolveUrl ?? resolveDatabaseUrl)(deps.env ?? process.env);
    if (!cached || cached.url !== url) {
      await cached?.db.close().catch(() => undefined);
      cached = { url, db: (deps.openDb ?? ((u) => openPostgres({ url: u, max: 2, applicationName: 'benchsight-worker' })))(url) };
    }
    const db = cached.db;
    handlers ??=
      deps.handlers ??
      (await deployedHandlers(deps.env ?? process.env).catch((err: unknown) => {
        log(`worker: the command handlers could not be set up (${(err as Error).message}); running the ETL only`);
        return jobHandlers();
      }));
    const workerId = `lambda:${context.awsRequestId}`;
    const budget = context.getRemainingTimeInMillis() - (deps.safetyMarginMs ?? 60_000);
    const signal = budget > 0 ? AbortSignal.timeout(budget) : AbortSignal.abort();
    log(`worker ${workerId} woken${ev.reason ? ` (${ev.reason})` : ''}`);

    const outcomes: JobOutcome[] = [];
    if (ev.jobId !== undefined) {
      const first = await runJob(db, ev.jobId, { ...deps.worker, handlers, workerId, log });
      if (first.ran) outcomes.push(first.outcome);
      else log(first.reason);
    }
    const summary = await runWorker(db, { ...deps.worker, handlers, workerId, until: 'empty', signal, log });
    outcomes.push(...summary.outcomes);
    const count = (s: JobOutcome['status']) => outcomes.filter((o) => o.status === s).length;
    return {
      workerId,
      processed: outcomes.length,
      succeeded: count('succeeded'),
      retrying: count('retrying'),
      failed: count('failed'),
      lost: count('lost'),
      jobs: outcomes.map((o) => ({ id: o.job.id, operation: o.job.operation, gameId: o.job.gameId, status: o.status, ...(o.error ? { error: o.error } : {}) })),
    };
  };
}

/** The ETL's handlers, and Slack's queued commands: their loads read the drop bucket, their answers go to Slack. */
async function deployedHandlers(env: NodeJS.ProcessEnv): Promise<Handlers> {
  const token = await slackTokenFromEnv(env);
  return {
    ...jobHandlers(),
    [COMMAND_JOB]: commandJobHandler({
      source: bucketSourceFromEnv(env),
      client: token ? slackClient(token, { slackApiUrl: slackApiUrlFromEnv(env) }) : undefined,
      extensions: (db) => commandExtensions(db),
    }),
  };
}

export const handler = createWorkerHandler();
