/**
 * A batch: a folder `batches/<name>/` with CSV files and, uploaded last, a
 * `_manifest.json`. The manifest's event loads the whole folder as one request,
 * in dependency order, all or nothing — whatever order the files' events arrive in.
 *
 *   { "files": ["dim_team.csv", "fact_events.csv"],   optional: default every .csv of the folder
 *     "operation": "replace",                          optional: default each table's own
 *     "game": 18969 }                                  optional: one game
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { OPERATIONS, type Operation } from '../warehouse';
import { classifyKey, exportDateOf, MANIFEST, type ExportDate } from './keys';
import { listAll, type ObjectRef } from './objects';

const ManifestSchema = z
  .object({
    files: z.array(z.string().min(1).max(1024)).min(1).optional(),
    operation: z.enum(OPERATIONS).optional(),
    game: z.number().int().positive().max(2147483647).optional(),
  })
  .strict();

export interface Batch {
  operation?: Operation;
  gameId?: number;
  /** Each file with its table and its export date (its name's date, else the batch folder's). */
  files: (ObjectRef & { table: string; exportedAt?: ExportDate })[];
}

export class BatchError extends Error {}

export async function readBatch(s3: S3Client, bucket: string, folder: string, manifestKey: string, versionId?: string): Promise<Batch> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey, VersionId: versionId }));
  const text = (await r.Body?.transformToString('utf8')) ?? '';
  let parsed: z.infer<typeof ManifestSchema>;
  try {
    parsed = ManifestSchema.parse(text.trim() === '' ? {} : JSON.parse(text));
  } catch (err) {
    const why = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ') : (err as Error).message;
    throw new BatchError(`${MANIFEST} of ${folder} cannot be read: ${why}`);
  }
  const present = (await listAll(s3, bucket, folder)).filter((o) => o.Key && o.Key !== manifestKey && !o.Key.slice(folder.length).includes('/'));
  const wanted = parsed.files ?? present.map((o) => o.Key!.slice(folder.length)).filter((n) => /\.csv(\.gz)?$/i.test(n));
  if (!wanted.length) throw new BatchError(`batch ${folder} has no .csv files next to its ${MANIFEST}`);
  const files: Batch['files'] = [];
  for (const name of wanted) {
    const key = folder + name;
    const k = classifyKey(name);
    if (k.kind !== 'csv') throw new BatchError(`batch ${folder}: ${k.kind === 'unknown' ? k.reason : `${name} is not a table's CSV file`}`);
    const obj = present.find((o) => o.Key === key);
    if (!obj) throw new BatchError(`batch ${folder}: ${name} is listed in ${MANIFEST} but is not in the bucket (yet)`);
    const twin = files.find((f) => f.table === k.table);
    if (twin) throw new BatchError(`batch ${folder}: ${twin.key} and ${key} are both for ${k.table}`);
    const exportedAt = k.exportedAt ?? exportDateOf(key);
    files.push({ bucket, key, size: obj.Size, table: k.table, ...(exportedAt ? { exportedAt } : {}) });
  }
  return { operation: parsed.operation, gameId: parsed.game, files };
}
