/**
 * The loader Lambda: S3 ObjectCreated events of the drop bucket → the load engine.
 * Bundled to dist/loader/index.js by `npm run build`.
 */
import type { S3EventLike, LoaderDeps, RecordOutcome } from './process-event';
import { handleS3Event } from './process-event';
import { loaderDepsFromEnv } from './deps';

let deps: Promise<LoaderDeps> | undefined;

export async function handler(event: S3EventLike): Promise<{ outcomes: RecordOutcome[] }> {
  deps ??= loaderDepsFromEnv(process.env);
  deps.catch(() => (deps = undefined));
  const outcomes = await handleS3Event(event, await deps);
  return { outcomes: outcomes.map(({ result, ...o }) => ({ ...o, historyId: result?.historyId })) as RecordOutcome[] };
}
