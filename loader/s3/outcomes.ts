/**
 * What the loader leaves behind for an object it did not load, or did: a history row
 * for a refusal (a load leaves its own), a copy under processed/ or failed/ (with
 * `<key>.error.json` beside a failed one), and a Slack message.
 */
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Queryable } from '../db/database';
import { recordObjectRefused } from '../history';
import type { NotifyAction, SlackNotifier } from './notify';
import { s3Url } from './objects';
import type { S3ObjectEvent } from './tracking';

/**
 * x-amz-copy-source, percent-encoded like encodeURI (reserved characters such as `+`
 * kept as they are, `?` and `#` encoded): what S3 and S3-compatible servers, s3rver
 * included (it decodes with decodeURI), all read back as the same key.
 */
export function copySource(o: S3ObjectEvent): string {
  const key = encodeURI(o.key).replace(/\?/g, '%3F').replace(/#/g, '%23');
  return `${o.bucket}/${key}${o.versionId ? `?versionId=${encodeURIComponent(o.versionId)}` : ''}`;
}

/** A refused object leaves a history row too, with the object in its context. */
export async function refuse(db: Queryable, obj: S3ObjectEvent, by: string, message: string): Promise<void> {
  await recordObjectRefused(db, {
    object: s3Url(obj),
    message,
    initiatedBy: by,
    context: { bucket: obj.bucket, key: obj.key, etag: obj.etag ?? obj.head?.etag, sequencer: obj.sequencer },
  });
}

export interface OutcomeDeps {
  s3: S3Client;
  notifier?: SlackNotifier;
  log?: (line: string) => void;
  now?: () => Date;
}

/**
 * Copies `objects` to processed/, failed/ or refused/ (with the error beside them) and
 * tells Slack about `named` (by default the objects copied). `title` heads the Slack
 * message; `action`, a button under it. refused/ is for files a drift policy refused:
 * unlike failed/, it leaves them loadable (source.ts).
 */
export async function afterwards(
  deps: OutcomeDeps,
  objects: S3ObjectEvent[],
  where: 'processed' | 'failed' | 'refused',
  text: string,
  info: { historyId?: number; requestId?: string; error?: string; drift?: unknown },
  named: S3ObjectEvent[] = objects,
  title = where === 'processed' ? 'Loaded' : 'Not loaded',
  action?: NotifyAction,
): Promise<void> {
  const day = (deps.now?.() ?? new Date()).toISOString().slice(0, 10);
  const folder = `${where}/${day}/${info.historyId ? `h${info.historyId}` : `t${Date.now()}`}/`;
  for (const o of objects) {
    try {
      await deps.s3.send(new CopyObjectCommand({ Bucket: o.bucket, Key: folder + o.key, CopySource: copySource(o) }));
      if (where !== 'processed') {
        await deps.s3.send(
          new PutObjectCommand({
            Bucket: o.bucket,
            Key: `${folder}${o.key}.error.json`,
            ContentType: 'application/json',
            Body: JSON.stringify(
              {
                object: s3Url(o),
                error: info.error ?? text,
                historyId: info.historyId,
                requestId: info.requestId,
                ...(info.drift ? { drift: info.drift } : {}),
              },
              null,
              2,
            ),
          }),
        );
      }
    } catch (err) {
      deps.log?.(`could not copy ${s3Url(o)} to ${where}/: ${(err as Error).message}`);
    }
  }
  if (deps.notifier) {
    try {
      await deps.notifier.post(`${title}: ${named.map((o) => s3Url(o)).join(', ')}\n${text}`, action ? { action } : undefined);
    } catch (err) {
      deps.log?.(`could not post to Slack: ${(err as Error).message}`);
    }
  }
}
