/**
 * Builds the loader's dependencies from its environment, once per process (a Lambda
 * cold start): the database (DATABASE_URL, or the Secrets Manager secret named by
 * DATABASE_SECRET_ARN), S3 (the SDK's standard settings; AWS_ENDPOINT_URL_S3 for a
 * local S3), Slack (SLACK_NOTIFY_CHANNEL with SLACK_BOT_TOKEN or the secret named by
 * SLACK_BOT_TOKEN_SECRET_ARN; SLACK_API_URL for a stand-in), tracker ingestion, the
 * worker to wake (WORKER_FUNCTION_NAME: an async Lambda invoke), and the claims' lease
 * (S3_CLAIM_LEASE_SECONDS, default 60: how soon a dead loader's object loads again).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { wakeWorker } from '../worker/wake';
import { resolveDatabaseUrl, secretFromEnv } from '../aws/secrets';
import type { Database } from '../db/database';
import { openPostgres } from '../db/postgres';
import { ingestTrackerExport } from '../tracker';
import { makeS3Client, s3ConfigFromEnv } from './client';
import { slackNotifier, type SlackNotifier } from './notify';
import type { LoaderDeps, TrackerIngest } from './process-event';

export async function notifierFromEnv(env: NodeJS.ProcessEnv): Promise<SlackNotifier | undefined> {
  const channel = env.SLACK_NOTIFY_CHANNEL?.trim();
  if (!channel) return undefined;
  const token = env.SLACK_BOT_TOKEN?.trim() || (env.SLACK_BOT_TOKEN_SECRET_ARN ? await secretFromEnv('SLACK_BOT_TOKEN_SECRET_ARN', env) : '');
  if (!token) return undefined;
  return slackNotifier({ token, channel, apiUrl: env.SLACK_API_URL?.trim() || undefined });
}

export function trackerIngest(db: Database, onQueued?: () => Promise<void>): TrackerIngest {
  return async (input, ctx) => {
    try {
      const r = await ingestTrackerExport(db, input, ctx);
      if (r.queued) await onQueued?.();
      return {
        ok: true,
        historyId: r.historyId,
        text: `staged game ${r.gameId} (${r.homeTeam} vs ${r.awayTeam}): ${r.events} events, ${r.shifts} shifts` +
          (r.queued ? `; the game ended, so its ETL is queued (job ${r.queued.jobId}${r.queued.joined ? ', joined a pending one' : ''})` : ''),
      };
    } catch (err) {
      return { ok: false, text: `tracker export not staged: ${(err as Error).message}` };
    }
  };
}

/** Asks the worker Lambda to run (fire and forget); a no-op where none is configured. */
export function workerWaker(env: NodeJS.ProcessEnv): () => Promise<void> {
  const name = env.WORKER_FUNCTION_NAME?.trim();
  if (!name) return async () => undefined;
  const lambda = new LambdaClient({});
  return () => wakeWorker(lambda, name, { reason: 'tracker export staged' });
}

const LeaseSchema = z.coerce.number().int().min(2, 'S3_CLAIM_LEASE_SECONDS must be at least 2').max(3600, 'S3_CLAIM_LEASE_SECONDS must be at most 3600');

/** The claims' lease from S3_CLAIM_LEASE_SECONDS (unset: the loader's default). */
export function claimsFromEnv(env: NodeJS.ProcessEnv): LoaderDeps['claims'] {
  const raw = env.S3_CLAIM_LEASE_SECONDS?.trim();
  if (!raw) return undefined;
  const parsed = LeaseSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid S3_CLAIM_LEASE_SECONDS "${raw}": ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return { leaseMs: parsed.data * 1000 };
}

export async function loaderDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<LoaderDeps> {
  const claims = claimsFromEnv(env);
  const db = openPostgres({ url: await resolveDatabaseUrl(env), max: 3, applicationName: 'benchsight-loader' });
  const wake = workerWaker(env);
  return {
    db,
    s3: makeS3Client(s3ConfigFromEnv(env)),
    notifier: await notifierFromEnv(env),
    ingestTracker: trackerIngest(db, wake),
    log: (line) => console.log(line),
    claims,
  };
}
