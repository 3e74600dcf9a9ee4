/**
 * `benchsight drop <files...>`: uploads export files to the drop bucket (local or AWS),
 * where the loader picks them up, with lib-storage's Upload (multipart in parallel parts
 * for big files, progress per part) and who dropped them as the objects' metadata. `--batch <name>` uploads them as one batch (then its
 * _manifest.json, last), `--op`, `--game` put the operation / game in the keys. A key
 * that is not a plain path (`..`, `.` or empty segments, backslashes) is refused before
 * anything is uploaded: the loader would refuse it, and a file server behind a local
 * bucket would write it outside its folder.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { OPERATIONS, type Operation } from '../warehouse';
import { MANIFEST, UPLOADED_BY, unsafeKey } from './keys';

export interface DropOptions {
  files: string[];
  bucket: string;
  prefix?: string;
  batch?: string;
  operation?: Operation;
  gameId?: number;
  /** Who drops them (`cli:<user>`): kept as the object's metadata, the loader records it as the load's initiator. */
  uploadedBy?: string;
  /** Bytes sent of each file (lib-storage's progress, per part). */
  onProgress?: (p: { file: string; done: number; total: number }) => void;
}

export class DropError extends Error {}

/** The key a file named `name` is dropped under: `[prefix/][batches/<batch>/ | op=<op>/][game=<id>/]<name>` (keys.ts reads it back). */
export function dropKey(o: Pick<DropOptions, 'prefix' | 'batch' | 'operation' | 'gameId'>, name: string): string {
  const base = [
    o.prefix?.replace(/^\/+|\/+$/g, ''),
    o.batch !== undefined ? `batches/${o.batch}` : undefined,
    o.operation && o.batch === undefined ? `op=${o.operation}` : undefined,
    o.gameId !== undefined && o.batch === undefined ? `game=${o.gameId}` : undefined,
  ]
    .filter(Boolean)
    .join('/');
  return `${base ? `${base}/` : ''}${name}`;
}

/**
 * Streams one upload of unknown length into the bucket (multipart, two parts of 5 MB in
 * flight at a time: never the whole file) and returns its size and ETag.
 */
export async function dropStream(
  s3: S3Client,
  o: { bucket: string; key: string; body: Readable; contentType?: string; onBytes?: (bytes: number) => void },
): Promise<{ bytes: number; etag?: string }> {
  const why = unsafeKey(o.key);
  if (why) throw new Error(`not a safe key, nothing was uploaded: ${why}`);
  let bytes = 0;
  const counted = o.body.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        o.onBytes?.(bytes);
        done(null, chunk);
      },
    }),
  );
  o.body.once('error', (err) => counted.destroy(err));
  const upload = new Upload({
    client: s3,
    params: { Bucket: o.bucket, Key: o.key, Body: counted, ContentType: o.contentType ?? 'text/csv' },
    partSize: 5 * 1024 * 1024,
    queueSize: 2,
    leavePartsOnError: false,
  });
  const r = await upload.done();
  return { bytes, etag: r.ETag };
}

export async function dropFiles(s3: S3Client, o: DropOptions, log: (line: string) => void = () => undefined): Promise<string[]> {
  if (!o.files.length) throw new DropError('no files to drop');
  const missing = o.files.filter((f) => !existsSync(f));
  if (missing.length) throw new DropError(`file not found: ${missing.join(', ')}; nothing was uploaded`);
  const folders = o.files.filter((f) => !statSync(f).isFile());
  if (folders.length)
    throw new DropError(
      `not a file: ${folders.join(', ')} (drop the export files themselves, e.g. ${path.join(folders[0]!, 'fact_events.csv')}); nothing was uploaded`,
    );
  if (o.operation && !(OPERATIONS as readonly string[]).includes(o.operation)) throw new DropError(`unknown operation ${o.operation}`);
  if (o.batch !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(o.batch)) throw new DropError('a batch name is letters, digits, . _ -');
  const planned = o.files.map((file) => ({ file, key: dropKey(o, path.basename(file)) }));
  const base = dropKey(o, '').replace(/\/$/, '');
  for (const { key } of planned) {
    const why = unsafeKey(key);
    if (why) throw new DropError(`not a safe key, nothing was uploaded: ${why}`);
  }
  const keys: string[] = [];
  const metadata = o.uploadedBy ? { [UPLOADED_BY]: o.uploadedBy.replace(/[^\x20-\x7e]/g, '?') } : undefined;
  for (const { file, key } of planned) {
    const size = statSync(file).size;
    // lib-storage: one PUT for a small file, a multipart upload in parallel parts for a big one.
    const upload = new Upload({
      client: s3,
      params: { Bucket: o.bucket, Key: key, Body: createReadStream(file), ContentLength: size, ...(metadata ? { Metadata: metadata } : {}) },
      queueSize: 4,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (p) => o.onProgress?.({ file: path.basename(file), done: p.loaded ?? 0, total: p.total ?? size }));
    await upload.done();
    log(`uploaded ${file} → s3://${o.bucket}/${key} (${(size / 1e6).toFixed(1)} MB)`);
    keys.push(key);
  }
  if (o.batch !== undefined) {
    const manifest = {
      files: o.files.map((f) => path.basename(f)),
      ...(o.operation ? { operation: o.operation } : {}),
      ...(o.gameId !== undefined ? { game: o.gameId } : {}),
    };
    const key = `${base}/${MANIFEST}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: o.bucket,
        Key: key,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
        ...(metadata ? { Metadata: metadata } : {}),
      }),
    );
    log(`uploaded the batch manifest → s3://${o.bucket}/${key}`);
    keys.push(key);
  }
  return keys;
}
