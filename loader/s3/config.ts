/**
 * The drop bucket's S3 settings from the environment (DROP_BUCKET, AWS_ENDPOINT_URL_S3 for a
 * local S3, the keys): no AWS SDK here, so a command that only asks whether a bucket is
 * configured does not load it (client.ts makes the client).
 */
import { z } from 'zod';

const S3EnvSchema = z.object({
  DROP_BUCKET: z
    .string()
    .trim()
    .min(3)
    .max(63)
    .regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, 'DROP_BUCKET must be an S3 bucket name')
    .optional(),
  AWS_ENDPOINT_URL_S3: z.string().trim().url('AWS_ENDPOINT_URL_S3 must be a URL').optional(),
  AWS_REGION: z.string().trim().min(1).optional(),
  AWS_ACCESS_KEY_ID: z.string().trim().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().trim().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().trim().min(1).optional(),
});

export interface S3Config {
  bucket?: string;
  endpoint?: string;
  region: string;
  /** For a custom endpoint (a local S3): the keys of the parsed environment. On AWS the SDK's own provider chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = S3EnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new Error(`invalid S3 configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const d = parsed.data;
  return {
    bucket: d.DROP_BUCKET,
    endpoint: d.AWS_ENDPOINT_URL_S3,
    region: d.AWS_REGION ?? 'us-east-1',
    credentials:
      d.AWS_ENDPOINT_URL_S3 && d.AWS_ACCESS_KEY_ID && d.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: d.AWS_ACCESS_KEY_ID, secretAccessKey: d.AWS_SECRET_ACCESS_KEY, ...(d.AWS_SESSION_TOKEN ? { sessionToken: d.AWS_SESSION_TOKEN } : {}) }
        : undefined,
  };
}
