/**
 * The migrate Lambda (`dist/migrate/index.js`): `pulumi up` invokes it whenever a file
 * of sql/migrations or sql/functions changes, so the schema is current when the deploy
 * returns. It connects as the migrator role (the secret named by DATABASE_SECRET_ARN),
 * applies the pending migrations and the changed function files shipped next to the
 * bundle, then re-applies the API exposure rules (sql/functions/exposure.sql) so that
 * later tables and roles are covered (always here: migrate() alone re-applies them when
 * they are out of date).
 * The invocation's input may carry the stack's `apiAnonRead` (whether Supabase's anon role
 * may read the warehouse tables): it is stored in bs_settings.api_anon_read and the
 * exposure applied with it.
 * A failure throws: the invocation, and so the deploy, fails with its message.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveDatabaseUrl, type SecretReader } from '../aws/secrets';
import type { Queryable } from '../db/database';
import { FUNCTIONS_DIR, migrate, MigrationError, MIGRATIONS_DIR, readFunctionFiles, readMigrations, type MigrateResult } from '../db/migrate';
import { openPostgres } from '../db/postgres';
import { createLogger, lineLog } from '../log';

/** JSON lines to CloudWatch, with each invocation's request id. */
const logger = createLogger({ service: 'benchsight-migrate', level: process.env.LOG_LEVEL });

/** What `pulumi up` sends (infra/database.ts): every field optional, so a bare invoke migrates. */
export interface MigrateEvent {
  action?: 'migrate';
  migrationsHash?: string;
  /** Whether Supabase's anon role may read the warehouse tables. */
  apiAnonRead?: boolean;
}

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
  /** Stored in bs_settings.api_anon_read before the exposure is applied; unset leaves it as it is. */
  apiAnonRead?: boolean;
}): Promise<MigrateOutcome> {
  const log = opts.log ?? lineLog(logger, 'migrate');
  const url = await databaseUrl(opts.env ?? process.env, opts.read, log, opts.retry ?? { attempts: 8, delayMs: 5000 });
  const dirs = opts.dirs ?? sqlDirs();
  const db = openPostgres({ url, max: 1, applicationName: 'benchsight-migrate' });
  try {
    log(`migrating ${db.label} from ${dirs.migrations} and ${dirs.functions}`);
    const migrations = readMigrations(dirs.migrations);
    // Before the migrations when bs_settings exists (so their exposure uses it), else after them.
    const early = opts.apiAnonRead !== undefined && (await storeAnonRead(db, opts.apiAnonRead));
    const result = await migrate(db, {
      migrations,
      functions: readFunctionFiles(dirs.functions),
      log,
      exposure: 'always',
    }).catch((err: unknown) => {
      throw withHint(err);
    });
    const { applied, version, functions } = result;
    let exposure = result.exposure;
    if (opts.apiAnonRead !== undefined && !early && (await storeAnonRead(db, opts.apiAnonRead))) {
      await db.query('SELECT apply_exposure()');
      exposure = 'applied';
    }
    if (opts.apiAnonRead !== undefined) log(`anon ${opts.apiAnonRead ? 'may' : 'may not'} read the warehouse tables (bs_settings.api_anon_read)`);
    log(`at version ${version}; ${applied.length} applied; ${functions.length} function file(s) applied; exposure ${exposure}`);
    return { applied, version, functions, exposure };
  } finally {
    await db.close();
  }
}

/** Stores the anon decision where apply_exposure() reads it; false when bs_settings does not exist yet. */
async function storeAnonRead(db: Queryable, anonRead: boolean): Promise<boolean> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('public.bs_settings')::text AS t");
  if (!exists.rows[0]?.t) return false;
  await db.query(
    `INSERT INTO bs_settings (key, value, description) VALUES ('api_anon_read', $1, $2)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
    [String(anonRead), "whether Supabase's anon role (the public API key) may read the warehouse tables; set by the stack's apiAnonRead"],
  );
  return true;
}

/** A migration refused for want of CREATE on the database says what the migrator lacks and how it is given. */
function withHint(err: unknown): unknown {
  if (!(err instanceof MigrationError) || !/permission denied for database/.test(err.message)) return err;
  return new MigrationError(
    `${err.message}. The migrator role needs CREATE on the database (migration 000003 creates the schema landing): ` +
      'the stack grants it (grant database-migrator-database), which works only when the admin user of databaseUrl owns the database ' +
      'or holds that right WITH GRANT OPTION; otherwise the database owner runs GRANT CREATE ON DATABASE <database> TO <prefix>_migrator (infra/README.md)',
  );
}

export const handler = async (event: MigrateEvent = {}, context?: { awsRequestId?: string }): Promise<MigrateOutcome> =>
  runMigrations({ apiAnonRead: event.apiAnonRead, log: lineLog(logger.child({ requestId: context?.awsRequestId }), 'migrate') });
