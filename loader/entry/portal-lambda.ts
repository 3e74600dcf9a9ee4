/**
 * The Portal Lambda (bundled to dist/portal/index.js, with the built page in
 * dist/portal/ui, behind a Function URL): the Portal's app (portal/server) through
 * Hono's Lambda adapter. Sign-in is Supabase Auth (PORTAL_AUTH=supabase: SUPABASE_URL,
 * SUPABASE_ANON_KEY, and SUPABASE_JWT_SECRET or the secret SUPABASE_JWT_SECRET_ARN names
 * for a project on the legacy shared secret; else the project's JWKS), roles from
 * BENCHSIGHT_ROLES as the bot's (or PORTAL_ROLES, its older name, which infra sets).
 * Accepted commands go to the job queue and wake the worker (WORKER_FUNCTION_NAME),
 * which runs them as it runs Slack's and finishes their record;
 * the page polls. Uploads are presigned PUTs straight to the drop bucket (DROP_BUCKET).
 * Read once per cold start.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { handle } from 'hono/aws-lambda';
import { queueDispatcher } from '../../bot/queue-dispatcher';
import { createPortalApp } from '../../portal/server/app';
import { portalConfigFromEnv } from '../../portal/server/config';
import type { JobRunner } from '../../portal/server/deps';
import { readSecret, resolveDatabaseUrl, type SecretReader } from '../aws/secrets';
import type { Database } from '../db/database';
import { openPostgres } from '../db/postgres';
import { makeS3Client, s3ConfigFromEnv } from '../s3/client';
import { bucketSourceFromEnv, commandExtensions, workerWakerFromEnv } from './context';

type Handler = ReturnType<typeof handle>;

export interface PortalLambdaOptions {
  env?: Record<string, string | undefined>;
  read?: SecretReader;
  openDb?: (url: string) => Database;
  /** The queue by default; a test may run jobs its own way. */
  jobs?: (db: Database) => JobRunner;
  uiDir?: string;
}

/** Accepted commands become `command` jobs on the queue, run by the worker (bot/worker-jobs.ts) like Slack's. */
export function queuedJobs(db: Database, env: Record<string, string | undefined>): JobRunner {
  const wake = workerWakerFromEnv(env as NodeJS.ProcessEnv);
  const dispatcher = queueDispatcher(db, (jobId) => wake({ reason: 'portal', jobId }));
  return {
    async submit(job) {
      await dispatcher.submit({ command: job.command, text: job.text, userId: job.userId, auditId: job.auditId });
    },
  };
}

export function portalHandlerFromEnv(o: PortalLambdaOptions = {}): Handler {
  let ready: Promise<Handler> | undefined;
  const coldStart = async (): Promise<Handler> => {
    const env = { ...(o.env ?? process.env) };
    const read = o.read ?? readSecret;
    if (!env.SUPABASE_JWT_SECRET?.trim() && env.SUPABASE_JWT_SECRET_ARN?.trim()) env.SUPABASE_JWT_SECRET = (await read(env.SUPABASE_JWT_SECRET_ARN)).trim();
    const config = portalConfigFromEnv({ PORTAL_AUTH: 'supabase', ...env });
    const url = await resolveDatabaseUrl(env, read);
    const db = (o.openDb ?? ((u) => openPostgres({ url: u, max: 3, applicationName: 'benchsight-portal' })))(url);
    const s3c = s3ConfigFromEnv(env as NodeJS.ProcessEnv);
    const uiDir = o.uiDir ?? path.join(__dirname, 'ui');
    const app = createPortalApp({
      config,
      db,
      source: bucketSourceFromEnv(env as NodeJS.ProcessEnv),
      extensions: commandExtensions(db),
      jobs: (o.jobs ?? ((d) => queuedJobs(d, env)))(db),
      bucket: s3c.bucket ? { s3: makeS3Client(s3c), name: s3c.bucket } : undefined,
      uiDir: existsSync(path.join(uiDir, 'index.html')) ? uiDir : undefined,
      liveEvents: false,
      log: (l) => console.error(l),
    });
    return handle(app);
  };
  return (async (event: Parameters<Handler>[0], context?: Parameters<Handler>[1]) => {
    ready ??= coldStart().catch((err: unknown) => {
      ready = undefined; // the next event tries again (e.g. a secret fixed meanwhile)
      throw err;
    });
    return (await ready)(event, context);
  }) as Handler;
}

export const handler = portalHandlerFromEnv();
