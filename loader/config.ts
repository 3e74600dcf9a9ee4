/**
 * Configuration is read once, at the edge, from the environment, validated with zod
 * into a typed object that is passed down. Nothing deeper reads process.env.
 */
import { z } from 'zod';

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .min(1)
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'DATABASE_URL must be a postgres:// or postgresql:// connection string')
    .optional(),
  BENCHSIGHT_DATA_DIR: z.string().trim().min(1).default('.benchsight'),
});

export interface Config {
  databaseUrl?: string;
  /** Folder for local state: the embedded database, the local bucket. */
  dataDir: string;
}

export class ConfigError extends Error {}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return { databaseUrl: parsed.data.DATABASE_URL, dataDir: parsed.data.BENCHSIGHT_DATA_DIR };
}
