/**
 * The loader Lambda: S3 ObjectCreated events of the drop bucket → the load engine.
 * Bundled to dist/loader/index.js by `npm run build`. A delivery of an object that
 * another live loader holds waits for it while the invocation has time (a minute is
 * kept for the rest), then fails so that Lambda delivers the event again.
 */
import type { S3EventLike, LoaderDeps, RecordOutcome } from './process-event';
import { handleS3Event } from './process-event';
import { loaderDepsFromEnv } from './deps';

let deps: Promise<LoaderDeps> | undefined;

export async function handler(event: S3EventLike, context?: { getRemainingTimeInMillis?: () => number }): Promise<{ outcomes: RecordOutcome[] }> {
  deps ??= loaderDepsFromEnv(process.env);
  deps.catch(() => (deps = undefined));
  const d = await deps;
  const remaining = context?.getRemainingTimeInMillis?.();
  const claims = remaining === undefined ? d.claims : { ...d.claims, waitMs: Math.max(0, remaining - 60_000) };
  const outcomes = await handleS3Event(event, { ...d, claims });
  return { outcomes: outcomes.map(({ result, ...o }) => ({ ...o, historyId: result?.historyId })) as RecordOutcome[] };
}
