/**
 * S3 objects as the load engine's sources: one object, the files of a batch folder,
 * or the latest export of each table in the drop bucket (what Slack and CLI commands
 * load from).
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Source, SourceFile } from '../engine';
import { classifyKey } from './keys';

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
  size?: number;
}

export function s3Url(o: { bucket: string; key: string }): string {
  return `s3://${o.bucket}/${o.key}`;
}

export function objectFile(s3: S3Client, table: string, o: ObjectRef): SourceFile {
  return {
    table,
    name: s3Url(o),
    size: o.size,
    async open() {
      const r = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId }));
      if (!r.Body) throw new Error(`${s3Url(o)} has no body`);
      return r.Body as Readable;
    },
  };
}

export async function listAll(s3: S3Client, bucket: string, prefix: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(r.Contents ?? []));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * The latest export of each table in the bucket: of the keys that name a table (plain
 * drops and batch members, not scoped to one game, not the loader's own copies), the newest.
 */
export function latestExportsSource(s3: S3Client, bucket: string): Source {
  let listing: Promise<Map<string, ObjectRef>> | undefined;
  const latest = () =>
    (listing ??= listAll(s3, bucket, '').then((objects) => {
      const best = new Map<string, _Object>();
      for (const o of objects) {
        const k = classifyKey(o.Key ?? '');
        const table = k.kind === 'csv' && k.gameId === undefined ? k.table : k.kind === 'batch-member' ? k.table : undefined;
        if (!table) continue;
        const cur = best.get(table);
        if (!cur || (o.LastModified?.getTime() ?? 0) > (cur.LastModified?.getTime() ?? 0)) best.set(table, o);
      }
      return new Map([...best].map(([t, o]) => [t, { bucket, key: o.Key!, size: o.Size }]));
    }));
  return {
    describe: () => `s3://${bucket}/ (the latest export of each table)`,
    async fileFor(table) {
      const o = (await latest()).get(table);
      return o ? objectFile(s3, table, o) : null;
    },
  };
}

/** The files `<prefix><table>.csv` of a bucket folder (e.g. an export kept under exports/2025-12-29/). */
export function prefixSource(s3: S3Client, bucket: string, prefix: string): Source {
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  let listing: Promise<Map<string, _Object>> | undefined;
  const objects = () => (listing ??= listAll(s3, bucket, folder).then((all) => new Map(all.map((o) => [o.Key!, o]))));
  return {
    describe: () => `s3://${bucket}/${folder}`,
    async fileFor(table) {
      const o = (await objects()).get(`${folder}${table}.csv`);
      return o ? objectFile(s3, table, { bucket, key: o.Key!, size: o.Size }) : null;
    },
  };
}
