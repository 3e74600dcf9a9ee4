/**
 * The loader Lambda: S3 ObjectCreated events of the drop bucket → the load engine
 * (loader/s3/process-event.ts). Bundled to dist/loader/index.js by `npm run build`. A
 * delivery of an object that another live loader holds waits for it while the invocation
 * has time (a minute is kept for the rest), then fails so that Lambda delivers the event
 * again.
 *
 * Its dependencies come from the environment, once per process (a cold start): the
 * database (DATABASE_URL, or the secret DATABASE_SECRET_ARN names), S3 (the SDK's
 * settings; AWS_ENDPOINT_URL_S3 for a local S3), Slack (SLACK_NOTIFY_CHANNEL with
 * SLACK_BOT_TOKEN or the secret SLACK_BOT_TOKEN_SECRET_ARN names; SLACK_API_URL for a
 * stand-in), tracker ingestion, the worker to wake (WORKER_FUNCTION_NAME) and the claims'
 * lease (S3_CLAIM_LEASE_SECONDS, default 60: how soon a dead loader's object loads again).
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { resolveDatabaseUrl } from '../aws/secrets';
import { openPostgres } from '../db/postgres';
import { makeS3Client, s3ConfigFromEnv } from '../s3/client';
import { slackNotifier, type SlackNotifier } from '../s3/notify';
import { handleS3Event, type LoaderDeps, type RecordOutcome, type S3EventLike } from '../s3/process-event';
import { createLogger, lineLog } from '../log';
import { slackApiUrlFromEnv, slackTokenFromEnv, trackerIngest, workerWakerFromEnv } from './context';

let deps: Promise<LoaderDeps> | undefined;
/** JSON lines to CloudWatch: level, time, service, and each invocation's request id. */
const logger = createLogger({ service: 'benchsight-loader', level: process.env.LOG_LEVEL });

export async function handler(
  event: S3EventLike,
  context?: Partial<Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>>,
): Promise<{ outcomes: RecordOutcome[] }> {
  const log = logger.child({ requestId: context?.awsRequestId });
  deps ??= loaderDepsFromEnv(process.env);
  deps.catch((err: unknown) => {
    log.error({ err }, 'the loader could not be set up');
    deps = undefined;
  });
  const d = await deps;
  const remaining = context?.getRemainingTimeInMillis?.();
  const claims = remaining === undefined ? d.claims : { ...d.claims, waitMs: Math.max(0, remaining - 60_000) };
  const outcomes = await handleS3Event(event, { ...d, claims, log: lineLog(log, 'loader') });
  return { outcomes: outcomes.map(({ result, ...o }) => ({ ...o, historyId: result?.historyId })) as RecordOutcome[] };
}

async function loaderDepsFromEnv(env: NodeJS.ProcessEnv): Promise<LoaderDeps> {
  const claims = claimsFromEnv(env);
  const db = openPostgres({ url: await resolveDatabaseUrl(env), max: 3, applicationName: 'benchsight-loader' });
  const wake = workerWakerFromEnv(env);
  return {
    db,
    s3: makeS3Client(s3ConfigFromEnv(env)),
    notifier: await notifierFromEnv(env),
    ingestTracker: trackerIngest(db, () => wake({ reason: 'tracker export staged' })),
    claims,
  };
}

async function notifierFromEnv(env: NodeJS.ProcessEnv): Promise<SlackNotifier | undefined> {
  const channel = env.SLACK_NOTIFY_CHANNEL?.trim();
  if (!channel) return undefined;
  const token = await slackTokenFromEnv(env);
  if (!token) return undefined;
  return slackNotifier({ token, channel, apiUrl: slackApiUrlFromEnv(env) });
}

const LeaseSchema = z.coerce.number().int().min(2, 'S3_CLAIM_LEASE_SECONDS must be at least 2').max(3600, 'S3_CLAIM_LEASE_SECONDS must be at most 3600');

/** The claims' lease from S3_CLAIM_LEASE_SECONDS (unset: the loader's default). */
function claimsFromEnv(env: NodeJS.ProcessEnv): LoaderDeps['claims'] {
  const raw = env.S3_CLAIM_LEASE_SECONDS?.trim();
  if (!raw) return undefined;
  const parsed = LeaseSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid S3_CLAIM_LEASE_SECONDS "${raw}": ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return { leaseMs: parsed.data * 1000 };
}
