/**
 * S3 event → load engine. Every record of an event is handled in turn: its key says
 * what it is (keys.ts); a CSV loads into its table, a batch manifest loads its folder
 * as one request, a tracker export goes to tracker ingestion. Each object is claimed
 * first (tracking.ts: loaded once, never older over newer), copied afterwards to
 * processed/ or failed/ (with the error beside it), and the outcome is posted to Slack
 * when a channel is configured. Load failures are thrown at the end, so Lambda retries
 * the event and finally hands it to the dead-letter queue; a retry is safe.
 */
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Database } from '../db/database';
import { filesSource, formatError, load, type LoadResult, type SourceFile } from '../engine';
import { renderLoad } from '../commands/render';
import { classifyKey, decodeS3Key } from './keys';
import { BatchError, readBatch } from './manifest';
import type { SlackNotifier } from './notify';
import { objectFile, s3Url } from './source';
import { claimObject, finishObject, type S3ObjectEvent } from './tracking';

export interface S3EventRecord {
  eventName?: string;
  eventTime?: string;
  userIdentity?: { principalId?: string };
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string } };
}
export interface S3EventLike {
  Records?: S3EventRecord[];
  Event?: string;
}

export interface TrackerIngest {
  (input: Readable, ctx: { source: string; initiatedBy: string }): Promise<{ ok: boolean; text: string; historyId?: number }>;
}

export interface LoaderDeps {
  db: Database;
  s3: S3Client;
  notifier?: SlackNotifier;
  ingestTracker?: TrackerIngest;
  log?: (line: string) => void;
  now?: () => Date;
}

export type RecordStatus = 'loaded' | 'failed' | 'skipped' | 'ignored' | 'refused';
export interface RecordOutcome {
  key: string;
  status: RecordStatus;
  message: string;
  result?: LoadResult;
}

export class LoadFailedError extends Error {}

export async function handleS3Event(event: S3EventLike, deps: LoaderDeps): Promise<RecordOutcome[]> {
  const log = deps.log ?? (() => undefined);
  if (event.Event === 's3:TestEvent' || !event.Records) {
    log('s3:TestEvent (or an event without records): nothing to load');
    return [];
  }
  const outcomes: RecordOutcome[] = [];
  for (const record of event.Records) {
    const o = await handleRecord(record, deps).catch((err: unknown): RecordOutcome => ({
      key: record.s3?.object?.key ?? '?', status: 'failed', message: (err as Error).message,
    }));
    log(`${o.status}: ${o.key}: ${o.message.split('\n')[0]}`);
    outcomes.push(o);
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length) {
    throw new LoadFailedError(`${failed.length} of ${outcomes.length} objects failed to load: ${failed.map((f) => `${f.key}: ${f.message.split('\n')[0]}`).join(' | ')}`);
  }
  return outcomes;
}

async function handleRecord(record: S3EventRecord, deps: LoaderDeps): Promise<RecordOutcome> {
  const bucket = record.s3.bucket.name;
  const key = decodeS3Key(record.s3.object.key);
  if (record.eventName && !record.eventName.startsWith('ObjectCreated')) return { key, status: 'ignored', message: `${record.eventName} is not an upload` };
  const obj: S3ObjectEvent = {
    bucket, key, versionId: record.s3.object.versionId || undefined, etag: record.s3.object.eTag || undefined, sequencer: record.s3.object.sequencer || undefined,
  };
  const by = `s3:${record.userIdentity?.principalId ?? 'upload'}`;
  const kind = classifyKey(key);
  switch (kind.kind) {
    case 'own-copy':
      return { key, status: 'ignored', message: 'a copy made by the loader itself' };
    case 'batch-member':
      return { key, status: 'ignored', message: `part of batch ${kind.batch}: it loads with the batch's _manifest.json` };
    case 'unknown': {
      const claim = await claimObject(deps.db, obj, 'unknown');
      if (!claim.claimed) return { key, status: 'skipped', message: claim.why };
      const message = `not loaded: ${kind.reason}`;
      await refuse(deps, obj, by, message);
      await finishObject(deps.db, claim.id, 'failed', { note: message });
      await afterwards(deps, [obj], 'failed', message, {});
      return { key, status: 'refused', message };
    }
    case 'tracker': {
      const claim = await claimObject(deps.db, obj, 'tracker');
      if (!claim.claimed) return { key, status: 'skipped', message: claim.why };
      if (!deps.ingestTracker) {
        const message = 'not loaded: tracker exports are recognised but tracker ingestion is not available here';
        await refuse(deps, obj, by, message);
        await finishObject(deps.db, claim.id, 'failed', { note: message });
        await afterwards(deps, [obj], 'failed', message, {});
        return { key, status: 'refused', message };
      }
      const body = await objectFile(deps.s3, 'tracker', obj).open();
      const r = await deps.ingestTracker(body, { source: s3Url(obj), initiatedBy: by });
      await finishObject(deps.db, claim.id, r.ok ? 'loaded' : 'failed', { historyId: r.historyId, note: r.text.slice(0, 500) });
      await afterwards(deps, [obj], r.ok ? 'processed' : 'failed', r.text, { historyId: r.historyId });
      return { key, status: r.ok ? 'loaded' : 'failed', message: r.text };
    }
    case 'csv':
    case 'manifest': {
      const claim = await claimObject(deps.db, obj, kind.kind === 'csv' ? 'csv' : 'batch');
      if (!claim.claimed) return { key, status: 'skipped', message: claim.why };
      let files: SourceFile[];
      let members: S3ObjectEvent[] = [obj];
      let operation = kind.operation;
      let gameId = kind.gameId;
      if (kind.kind === 'csv') {
        files = [objectFile(deps.s3, kind.table, { ...obj, size: record.s3.object.size })];
      } else {
        try {
          const batch = await readBatch(deps.s3, bucket, kind.folder, key, obj.versionId);
          files = batch.files.map((f) => objectFile(deps.s3, f.table, f));
          members = [...batch.files, obj];
          operation = batch.operation ?? operation;
          gameId = batch.gameId ?? gameId;
        } catch (err) {
          if (!(err instanceof BatchError)) throw err;
          await refuse(deps, obj, by, err.message);
          await finishObject(deps.db, claim.id, 'failed', { note: err.message });
          await afterwards(deps, [obj], 'failed', err.message, {});
          // A file listed but not there yet may arrive: let Lambda retry.
          return { key, status: /not in the bucket/.test(err.message) ? 'failed' : 'refused', message: err.message };
        }
      }
      const result = await load(deps.db, {
        scope: { kind: 'tables', tables: files.map((f) => f.table) },
        operation,
        gameId,
        source: filesSource(files, kind.kind === 'csv' ? s3Url(obj) : `s3://${bucket}/${kind.folder}`),
        initiatedBy: by,
        context: { bucket, key, etag: obj.etag, versionId: obj.versionId, sequencer: obj.sequencer },
      });
      const ok = result.status === 'succeeded';
      await finishObject(deps.db, claim.id, ok ? 'loaded' : 'failed', { requestId: result.requestId, historyId: result.historyId, note: ok ? undefined : result.error?.message });
      const text = renderLoad(result);
      await afterwards(deps, members, ok ? 'processed' : 'failed', text, { historyId: result.historyId, requestId: result.requestId, error: result.error ? formatError(result.error) : undefined });
      return { key, status: ok ? 'loaded' : 'failed', message: ok ? `loaded (history #${result.historyId})` : formatError(result.error!), result };
    }
  }
}

/**
 * x-amz-copy-source, percent-encoded like encodeURI (reserved characters such as `+`
 * kept as they are, `?` and `#` encoded): what S3 and S3-compatible servers, s3rver
 * included (it decodes with decodeURI), all read back as the same key.
 */
export function copySource(o: S3ObjectEvent): string {
  const key = encodeURI(o.key).replace(/\?/g, '%3F').replace(/#/g, '%23');
  return `${o.bucket}/${key}${o.versionId ? `?versionId=${encodeURIComponent(o.versionId)}` : ''}`;
}

/** A refused object leaves a history row too. */
async function refuse(deps: LoaderDeps, obj: S3ObjectEvent, by: string, message: string): Promise<void> {
  await deps.db.query(
    `INSERT INTO load_history (request_id, kind, scope, operation, source, status, error_message, initiated_by, completed_at, duration_ms)
     VALUES (gen_random_uuid(), 'request', 'drop', 'load', $1, 'refused', $2, $3, now(), 0)`,
    [s3Url(obj), message, by],
  );
}

/** Copies the objects to processed/ or failed/ (with the error beside them) and tells Slack. */
async function afterwards(
  deps: LoaderDeps,
  objects: S3ObjectEvent[],
  where: 'processed' | 'failed',
  text: string,
  info: { historyId?: number; requestId?: string; error?: string },
): Promise<void> {
  const day = (deps.now?.() ?? new Date()).toISOString().slice(0, 10);
  const folder = `${where}/${day}/${info.historyId ? `h${info.historyId}` : `t${Date.now()}`}/`;
  for (const o of objects) {
    try {
      await deps.s3.send(new CopyObjectCommand({
        Bucket: o.bucket, Key: folder + o.key,
        CopySource: copySource(o),
      }));
      if (where === 'failed') {
        await deps.s3.send(new PutObjectCommand({
          Bucket: o.bucket, Key: `${folder}${o.key}.error.json`, ContentType: 'application/json',
          Body: JSON.stringify({ object: s3Url(o), error: info.error ?? text, historyId: info.historyId, requestId: info.requestId }, null, 2),
        }));
      }
    } catch (err) {
      deps.log?.(`could not copy ${s3Url(o)} to ${where}/: ${(err as Error).message}`);
    }
  }
  if (deps.notifier) {
    try {
      const names = objects.map((o) => s3Url(o)).join(', ');
      await deps.notifier.post(`${where === 'processed' ? 'Loaded' : 'Not loaded'}: ${names}\n${text}`);
    } catch (err) {
      deps.log?.(`could not post to Slack: ${(err as Error).message}`);
    }
  }
}
