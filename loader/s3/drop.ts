/**
 * `benchsight drop <files...>`: uploads export files to the drop bucket (local or AWS),
 * where the loader picks them up. `--batch <name>` uploads them as one batch (then its
 * _manifest.json, last), `--op`, `--game` put the operation / game in the keys. A key
 * that is not a plain path (`..`, `.` or empty segments, backslashes) is refused before
 * anything is uploaded: the loader would refuse it, and a file server behind a local
 * bucket would write it outside its folder.
 */
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OPERATIONS, type Operation } from '../warehouse';
import { MANIFEST, unsafeKey } from './keys';

export interface DropOptions {
  files: string[];
  bucket: string;
  prefix?: string;
  batch?: string;
  operation?: Operation;
  gameId?: number;
}

export async function dropFiles(s3: S3Client, o: DropOptions, log: (line: string) => void = () => undefined): Promise<string[]> {
  if (!o.files.length) throw new Error('no files to drop');
  if (o.operation && !(OPERATIONS as readonly string[]).includes(o.operation)) throw new Error(`unknown operation ${o.operation}`);
  if (o.batch !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(o.batch)) throw new Error('a batch name is letters, digits, . _ -');
  const base = [
    o.prefix?.replace(/^\/+|\/+$/g, ''),
    o.batch !== undefined ? `batches/${o.batch}` : undefined,
    o.operation && o.batch === undefined ? `op=${o.operation}` : undefined,
    o.gameId !== undefined && o.batch === undefined ? `game=${o.gameId}` : undefined,
  ]
    .filter(Boolean)
    .join('/');
  const planned = o.files.map((file) => ({ file, key: `${base ? `${base}/` : ''}${path.basename(file)}` }));
  for (const { key } of planned) {
    const why = unsafeKey(key);
    if (why) throw new Error(`not a safe key, nothing was uploaded: ${why}`);
  }
  const keys: string[] = [];
  for (const { file, key } of planned) {
    const size = statSync(file).size;
    await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: key, Body: createReadStream(file), ContentLength: size }));
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
    await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: key, Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }));
    log(`uploaded the batch manifest → s3://${o.bucket}/${key}`);
    keys.push(key);
  }
  return keys;
}
