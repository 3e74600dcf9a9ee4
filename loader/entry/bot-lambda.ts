/**
 * The bot Lambda (bundled to dist/bot/index.js, behind a Function URL): bot/lambda.ts's
 * handler with its settings and secrets from the environment, read at the first event and
 * kept for the container's life. The environment holds the secrets' ARNs only
 * (SLACK_SIGNING_SECRET_ARN, SLACK_BOT_TOKEN_SECRET_ARN, DATABASE_SECRET_ARN). Slow
 * commands go to the job queue and wake the worker (WORKER_FUNCTION_NAME): work left
 * running after the ack may be frozen with the Lambda.
 */
import { botConfigFromLambdaEnv, type BotConfig } from '../../bot/config';
import type { JobDispatcher } from '../../bot/dispatcher';
import { createLambdaHandler, type LambdaHandler } from '../../bot/lambda';
import { queueDispatcher } from '../../bot/queue-dispatcher';
import { readSecret, resolveDatabaseUrl, type SecretReader } from '../aws/secrets';
import type { Extensions } from '../commands/execute';
import type { Database } from '../db/database';
import { openPostgres } from '../db/postgres';
import { createLogger } from '../log';
import { bucketSourceFromEnv, commandExtensions, type SourceOf, workerWakerFromEnv } from './context';

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

/** On AWS: slow commands go to the queue and wake the worker; loads read the drop bucket. */
export const handler = lambdaHandlerFromEnv({
  dispatcher: (db) => {
    const wake = workerWakerFromEnv(process.env);
    return queueDispatcher(db, (jobId) => wake({ reason: 'slack', jobId }));
  },
  source: () => bucketSourceFromEnv(process.env)?.() ?? Promise.reject(new Error('DROP_BUCKET is not set')),
  extensions: (db) => commandExtensions(db),
});
