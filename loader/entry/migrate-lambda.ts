/**
 * The migrate Lambda (`dist/migrate/index.js`): `pulumi up` invokes it whenever a file
 * of sql/migrations or sql/functions changes, so the schema is current when the deploy
 * returns. It connects as the migrator role (the secret named by DATABASE_SECRET_ARN),
 * applies the pending migrations and the changed function files shipped next to the
 * bundle, then re-applies the API exposure rules (sql/functions/exposure.sql) so that
 * later tables and roles are covered (always here: migrate() alone re-applies them when
 * they are out of date).
 * A failure throws: the invocation, and so the deploy, fails with its message.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveDatabaseUrl, type SecretReader } from '../aws/secrets';
import { FUNCTIONS_DIR, migrate, MIGRATIONS_DIR, readFunctionFiles, readMigrations, type MigrateResult } from '../db/migrate';
import { openPostgres } from '../db/postgres';
import { createLogger, lineLog } from '../log';

/** JSON lines to CloudWatch, with each invocation's request id. */
const logger = createLogger({ service: 'benchsight-migrate', level: process.env.LOG_LEVEL });

export interface MigrateOutcome {
  applied: string[];
  version: number;
  /** The files of sql/functions applied (those that changed). */
  functions: string[];
  /** Whether apply_exposure() ran (it exists from migration 000006 on). */
  exposure: MigrateResult['exposure'];
}

/** The SQL files: next to the bundle on Lambda (`sql/migrations`, `sql/functions`), sql/ from source. */
export function sqlDirs(bundleDir = __dirname): { migrations: string; functions: string } {
  const shipped = path.join(bundleDir, 'sql');
  return existsSync(path.join(shipped, 'migrations'))
    ? { migrations: path.join(shipped, 'migrations'), functions: path.join(shipped, 'functions') }
    : { migrations: MIGRATIONS_DIR, functions: FUNCTIONS_DIR };
}

/**
 * `pulumi up` invokes the function right after creating it and its role's policy, and
 * IAM takes a few seconds to apply a new policy: an AccessDenied on the secret is
 * retried for a while before it counts.
 */
async function databaseUrl(
  env: Record<string, string | undefined>,
  read: SecretReader | undefined,
  log: (line: string) => void,
  retry: { attempts: number; delayMs: number },
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await resolveDatabaseUrl(env, read);
    } catch (err) {
      if (attempt >= retry.attempts || !/AccessDenied/.test((err as Error).message)) throw err;
      log(`${(err as Error).message}; retrying in ${retry.delayMs / 1000} s (a new role's policy takes a moment to apply)`);
      await new Promise((r) => setTimeout(r, retry.delayMs));
    }
  }
}

export async function runMigrations(opts: {
  env?: Record<string, string | undefined>;
  dirs?: { migrations: string; functions: string };
  read?: SecretReader;
  log?: (line: string) => void;
  /** Retries of an AccessDenied on the secret (default 8, 5 s apart). */
  retry?: { attempts: number; delayMs: number };
}): Promise<MigrateOutcome> {
  const log = opts.log ?? lineLog(logger, 'migrate');
  const url = await databaseUrl(opts.env ?? process.env, opts.read, log, opts.retry ?? { attempts: 8, delayMs: 5000 });
  const dirs = opts.dirs ?? sqlDirs();
  const db = openPostgres({ url, max: 1, applicationName: 'benchsight-migrate' });
  try {
    log(`migrating ${db.label} from ${dirs.migrations} and ${dirs.functions}`);
    const { applied, version, functions, exposure } = await migrate(db, {
      migrations: readMigrations(dirs.migrations),
      functions: readFunctionFiles(dirs.functions),
      log,
      exposure: 'always',
    });
    log(`at version ${version}; ${applied.length} applied; ${functions.length} function file(s) applied; exposure ${exposure}`);
    return { applied, version, functions, exposure };
  } finally {
    await db.close();
  }
}

export const handler = async (_event?: unknown, context?: { awsRequestId?: string }): Promise<MigrateOutcome> =>
  runMigrations({ log: lineLog(logger.child({ requestId: context?.awsRequestId }), 'migrate') });
