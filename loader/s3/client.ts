/**
 * The S3 client, configured by the SDK's standard settings plus what a local,
 * S3-compatible server needs: AWS_ENDPOINT_URL_S3 switches to path-style addressing,
 * and checksums are only computed when required (streamed uploads to s3rver are
 * otherwise stored corrupted).
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from './config';

export { type S3Config, s3ConfigFromEnv } from './config';

export function makeS3Client(c: S3Config): S3Client {
  return new S3Client({
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint, forcePathStyle: true } : {}),
    ...(c.credentials ? { credentials: c.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
