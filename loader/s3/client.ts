/**
 * The S3 client, configured by the SDK's standard settings plus what a local,
 * S3-compatible server needs: AWS_ENDPOINT_URL_S3 switches to path-style addressing,
 * and checksums are only computed when required (streamed uploads to s3rver are
 * otherwise stored corrupted).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';

const S3EnvSchema = z.object({
  DROP_BUCKET: z.string().trim().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, 'DROP_BUCKET must be an S3 bucket name').optional(),
  AWS_ENDPOINT_URL_S3: z.string().trim().url('AWS_ENDPOINT_URL_S3 must be a URL').optional(),
  AWS_REGION: z.string().trim().min(1).optional(),
});

export interface S3Config {
  bucket?: string;
  endpoint?: string;
  region: string;
}

export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = S3EnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new Error(`invalid S3 configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return { bucket: parsed.data.DROP_BUCKET, endpoint: parsed.data.AWS_ENDPOINT_URL_S3, region: parsed.data.AWS_REGION ?? 'us-east-1' };
}

export function makeS3Client(c: S3Config): S3Client {
  return new S3Client({
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
