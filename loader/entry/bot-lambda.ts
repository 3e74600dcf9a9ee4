/**
 * The bot Lambda (bundled to dist/bot/index.js, behind a Function URL): bot/lambda.ts's
 * handler with its settings and secrets from the environment, read at the first event and
 * kept for the container's life. The environment holds the secrets' ARNs only
 * (SLACK_SIGNING_SECRET_ARN, SLACK_BOT_TOKEN_SECRET_ARN, DATABASE_SECRET_ARN). Slow
 * commands go to the job queue and wake the worker (WORKER_FUNCTION_NAME): work left
 * running after the ack may be frozen with the Lambda.
 *
 * Slack wants the ack within 3 s, a cold start included: what the ack does not need — the
 * ETL commands' code and the Lambda client that wakes the worker (./context) — is loaded
 * when a command first asks for it (`npm run bench cold-start` measures it).
 */
import { botConfigFromLambdaEnv, type BotConfig } from '../../bot/config';
import type { JobDispatcher } from '../../bot/dispatcher';
import { createLambdaHandler, type LambdaHandler } from '../../bot/lambda';
import { queueDispatcher } from '../../bot/queue-dispatcher';
import { readSecret, resolveDatabaseUrl, type SecretReader } from '../aws/secrets';
import type { Extensions } from '../commands/execute';
import type { Database } from '../db/database';
import { openPostgres } from '../db/postgres';
import type { SourceOf } from './context';
import { createLogger } from '../log';

/** JSON lines to CloudWatch: level, time, service. */
const logger = createLogger({ service: 'benchsight-bot', level: process.env.LOG_LEVEL });

export interface FromEnvOptions {
  env?: Record<string, string | undefined>;
  read?: SecretReader;
  /** Plugged in by the deployment: the queue dispatcher, the drop-bucket source, the ETL extensions. */
  dispatcher?: (db: Database, config: BotConfig) => JobDispatcher;
  source?: SourceOf;
  extensions?: (db: Database) => Extensions;
}

/** A handler that reads its configuration and secrets at the first event and keeps them for the container's life. */
export function lambdaHandlerFromEnv(opts: FromEnvOptions = {}): LambdaHandler {
  let ready: Promise<LambdaHandler> | undefined;
  const coldStart = async (): Promise<LambdaHandler> => {
    const env = opts.env ?? process.env;
    const read = opts.read ?? readSecret;
    const config = await botConfigFromLambdaEnv(env, read);
    const db = openPostgres({ url: await resolveDatabaseUrl(env, read), max: 2, applicationName: 'benchsight-bot' });
    if (!opts.dispatcher) {
      logger.warn('no job queue dispatcher plugged in; slow commands run in this Lambda after the ack and may be frozen with it');
    }
    return createLambdaHandler({
      config,
      db,
      dispatcher: opts.dispatcher?.(db, config),
      source: opts.source,
      extensions: opts.extensions?.(db),
    });
  };
  return async (event, context) => {
    ready ??= coldStart().catch((err: unknown) => {
      ready = undefined; // the next event tries again (e.g. a secret fixed meanwhile)
      throw err;
    });
    return (await ready)(event, context);
  };
}

/** The ETL commands and the worker's waker, loaded at their first use: off the ack path of a cold start. */
const context = () => import('./bot-deferred');

/** The ETL commands, loaded when one is first run. */
export function lazyExtensions(db: Database, load: typeof context = context): Required<Extensions> {
  let ext: Promise<Required<Extensions>> | undefined;
  const get = () => (ext ??= load().then((c) => c.commandExtensions(db)));
  return {
    etlQueue: async (gameId, priority, by) => (await get()).etlQueue(gameId, priority, by),
    etlRun: async (queueId, by) => (await get()).etlRun(queueId, by),
    etlStatus: async () => (await get()).etlStatus(),
    etlLog: async (jobId, tail) => (await get()).etlLog(jobId, tail),
    validate: async (gameId, by) => (await get()).validate(gameId, by),
  };
}

/**
 * On AWS: slow commands go to the queue and wake the worker, which reads the drop bucket;
 * the bot itself never reads S3 (its role may not).
 */
export const handler = lambdaHandlerFromEnv({
  dispatcher: (db) => {
    let waker: Promise<(event: { reason: string; jobId?: number }) => Promise<void>> | undefined;
    return queueDispatcher(db, async (jobId) => {
      const wake = await (waker ??= context().then((c) => c.workerWakerFromEnv(process.env)));
      await wake({ reason: 'slack', jobId });
    });
  },
  extensions: (db) => lazyExtensions(db),
});
