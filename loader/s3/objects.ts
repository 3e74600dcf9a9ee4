/**
 * One S3 object as a file the load engine reads, its s3:// name, and a bucket listing.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { decompressedIfGzip } from '../engine/sources';
import type { SourceFile } from '../engine';

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
      // A .csv.gz export is read through zlib (its size above is the compressed one).
      return decompressedIfGzip(o.key, r.Body as Readable);
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
