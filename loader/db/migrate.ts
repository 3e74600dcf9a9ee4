/**
 * Applies the numbered SQL files of sql/migrations in order, each in its own
 * transaction, recording version, name and checksum. Every transaction first takes
 * one transaction-level advisory lock, so two migrators run one after the other and
 * the second finds nothing to do; an applied migration whose file changed is refused.
 *
 * Then the files of sql/functions, the current definition of every function (the
 * "repeatable" migrations of Flyway): each file whose checksum differs from the one
 * recorded in schema_functions is applied again, in name order, each in its own
 * transaction under the same lock — and every file after a run that applied a versioned
 * migration, so that a database migrated step by step ends exactly like a new one (the
 * versioned migrations hold tables and data; the files create the functions).
 *
 * Then, every run, what no migration file can know in advance (grants.sql): no function
 * of the project is left executable by PUBLIC (also in each file's own transaction, so
 * none ever commits open to everyone), and the exposure to Supabase's API roles is
 * applied again when it is out of date — roles that appeared since, tables added since.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from './database';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** A file of sql/functions: applied again whenever it changes. */
export interface FunctionsFile {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Migrations whose text was rewritten after release, with the checksums of the text a
 * database may have applied before. In issue 14 the function bodies left 000003–000012
 * for sql/functions, the one current definition of each function (with the three
 * triggers that need them): the tables and data those migrations make are unchanged, so
 * a database that applied the old text is the same database. Its recorded checksum is
 * brought up to date (and said) instead of refused. Nothing else is ever rewritten.
 */
export const REWRITTEN_MIGRATIONS: Readonly<Record<string, readonly string[]>> = {
  '000003_loading.sql': ['2a0d5f8b29c3c0eb88531e1a643c1a31d1c80f68d8456d36e40b03326ee388e5'],
  '000004_s3_objects.sql': ['b0cd85c90542042560e975cd876317da4cf7ff7214cd6cc5985116244040a0de'],
  '000005_etl.sql': ['66bf51d3a12fd673e9f11a7f227cd6294423b0715b8e8f7ff8b9240c20f6ee52'],
  '000006_exposure.sql': ['f333f55697c14515a514517b10822a11d8233ff3db7f7038bff2ac035d1758bb'],
  '000007_set_based_apply.sql': ['9d90981abf31b312583e4d0d6f6466225809907e7ce85d59dd7d906884908303'],
  '000008_direct_replace.sql': ['9f927d857d82410c3e553bf60aad55137d2ff9bcb4e4bd13bbedba4456f5b5b7'],
  '000010_s3_claims.sql': ['4bf509a4100a0a4d221522a179d886528787d57342213d8f6486d55f801d27bd'],
  '000011_grants.sql': ['c707a21001dbfe9fd53b01cb0c22e104f8b35fd0a64c003669465e0bea29c330'],
  '000012_request_liveness_and_retention.sql': ['0229d817c741bb784d8d0eae33826d10b4615fc06242ad445a383c78df25a388'],
};

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../sql/migrations');
export const FUNCTIONS_DIR = path.resolve(__dirname, '../../sql/functions');
const FILE = /^(\d{6})_([a-z0-9_]+)\.sql$/;
const FUNCTIONS_FILE = /^[a-z0-9_]+\.sql$/;
/** Key of the advisory lock every migration transaction takes ("bsmigrat"). */
const LOCK_KEY = 0x62736d6967726174n;

export class MigrationError extends Error {}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = FILE.exec(file);
    if (!m) {
      if (file.endsWith('.sql')) throw new MigrationError(`${file}: migration files are named NNNNNN_name.sql`);
      continue;
    }
    const sql = readFileSync(path.join(dir, file), 'utf8');
    out.push({ version: Number(m[1]), name: file, sql, checksum: checksum(sql) });
  }
  out.forEach((mig, i) => {
    const prev = out[i - 1];
    if (prev && prev.version === mig.version) throw new MigrationError(`${prev.name} and ${mig.name} have the same version`);
  });
  return out;
}

/** The files of sql/functions, in the order migrate applies them (by name). */
export function readFunctionFiles(dir = FUNCTIONS_DIR): FunctionsFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      if (!FUNCTIONS_FILE.test(file)) throw new MigrationError(`${file}: function files are named like name.sql (a-z, 0-9, _)`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return { name: file, sql, checksum: checksum(sql) };
    });
}

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

async function lockAndRead(tx: Queryable): Promise<Applied[]> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY.toString()]);
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_functions (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const r = await tx.query<Applied>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  return r.rows;
}

/** Applied migrations recorded with a checksum of their text before a rewrite: recorded again with today's. */
async function adoptRewritten(tx: Queryable, applied: Applied[], known: Migration[], log?: (line: string) => void): Promise<Applied[]> {
  const out: Applied[] = [];
  for (const a of applied) {
    const m = known.find((k) => k.version === a.version);
    if (m && m.checksum !== a.checksum && REWRITTEN_MIGRATIONS[m.name]?.includes(a.checksum)) {
      await tx.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [a.version, m.checksum]);
      log?.(`${m.name}: applied before its function bodies moved to sql/functions; recorded with the new checksum`);
      out.push({ ...a, checksum: m.checksum });
    } else out.push(a);
  }
  return out;
}

function verify(applied: Applied[], known: Migration[]): void {
  for (const a of applied) {
    const m = known.find((k) => k.version === a.version);
    if (!m) {
      throw new MigrationError(
        `the database has migration ${a.name} applied, which this version of BenchSight Ops does not have; upgrade the code before migrating`,
      );
    }
    if (m.checksum !== a.checksum) {
      throw new MigrationError(
        `migration ${m.name} was edited after it was applied (checksum ${a.checksum.slice(0, 12)} in the database, ${m.checksum.slice(0, 12)} on disk). ` +
          'Applied migrations must not change: restore the file and put the change in a new migration.',
      );
    }
  }
}

export interface MigrateResult {
  applied: string[];
  version: number;
  /** The files of sql/functions applied in this run. */
  functions: string[];
  /** apply_exposure() (000006): run now, already current, or not in the schema (yet). */
  exposure: 'applied' | 'current' | 'absent';
}

/** bs_restrict_functions() (000011), where it exists: the functions it took EXECUTE from PUBLIC on. */
async function restrictFunctions(tx: Queryable): Promise<string[]> {
  const found = await tx.query<{ ok: boolean }>("SELECT to_regprocedure('bs_restrict_functions()') IS NOT NULL AS ok");
  if (!found.rows[0]?.ok) return [];
  return (await tx.query<{ changed: string[] }>('SELECT bs_restrict_functions() AS changed')).rows[0]!.changed;
}

/** After the migrations: functions restricted, and the exposure re-applied when it is out of date (or `always`). */
async function secure(tx: Queryable, always: boolean, log?: (line: string) => void): Promise<MigrateResult['exposure']> {
  await lockAndRead(tx);
  const changed = await restrictFunctions(tx);
  if (changed.length) log?.(`took EXECUTE from PUBLIC on ${changed.length} function(s) made outside the migrations: ${changed.join(', ')}`);
  const fns = await tx.query<{ exposure: boolean; pending: boolean; open: boolean }>(
    `SELECT to_regprocedure('apply_exposure()') IS NOT NULL AS exposure, to_regprocedure('exposure_pending()') IS NOT NULL AS pending,
            to_regprocedure('bs_functions_open_to_public()') IS NOT NULL AS open`,
  );
  const f = fns.rows[0]!;
  if (f.open) {
    const open = (await tx.query<{ fns: string[] }>('SELECT bs_functions_open_to_public() AS fns')).rows[0]!.fns;
    if (open.length)
      log?.(
        `warning: every role may execute ${open.join(', ')}: owned by another role, so not restricted here; its owner should REVOKE EXECUTE ... FROM PUBLIC`,
      );
  }
  if (!f.exposure) return 'absent';
  if (!always && f.pending && !(await tx.query<{ p: boolean }>('SELECT exposure_pending() AS p')).rows[0]!.p) return 'current';
  await tx.query('SELECT apply_exposure()');
  log?.('applied the exposure to the API roles (apply_exposure)');
  return 'applied';
}

export async function migrate(
  db: Database,
  opts: {
    migrations?: Migration[];
    /** The files of sql/functions (default: read from there; [] applies none). */
    functions?: FunctionsFile[];
    log?: (line: string) => void;
    /** 'always' runs apply_exposure() even when nothing seems to need it (the deploy's migrate function). */
    exposure?: 'when-needed' | 'always';
  } = {},
): Promise<MigrateResult> {
  const migrations = opts.migrations ?? readMigrations();
  const applied: string[] = [];
  for (;;) {
    const next = await db.transaction(async (tx) => {
      const done = await adoptRewritten(tx, await lockAndRead(tx), migrations, opts.log);
      verify(done, migrations);
      const pending = migrations.find((m) => !done.some((d) => d.version === m.version));
      if (!pending) return null;
      const newest = done[done.length - 1];
      if (newest && newest.version > pending.version) {
        throw new MigrationError(`migration ${pending.name} is older than ${newest.name}, which is already applied; give it a version above ${newest.version}`);
      }
      const started = Date.now();
      try {
        await tx.query(pending.sql);
        await restrictFunctions(tx);
      } catch (err) {
        throw new MigrationError(`migration ${pending.name} failed: ${(err as Error).message}`);
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [pending.version, pending.name, pending.checksum]);
      opts.log?.(`applied ${pending.name} (${Date.now() - started} ms)`);
      return pending;
    });
    if (!next) break;
    applied.push(next.name);
  }
  const functions = await applyFunctions(db, opts.functions ?? readFunctionFiles(), applied.length > 0, opts.log);
  const exposure = await db.transaction((tx) => secure(tx, opts.exposure === 'always', opts.log));
  return { applied, version: migrations.length ? migrations[migrations.length - 1]!.version : 0, functions, exposure };
}

/** Each functions file that changed (every one when `all`), in its own transaction. */
async function applyFunctions(db: Database, files: FunctionsFile[], all: boolean, log?: (line: string) => void): Promise<string[]> {
  const applied: string[] = [];
  for (const file of files) {
    const done = await db.transaction(async (tx) => {
      await lockAndRead(tx);
      const recorded = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_functions WHERE name = $1', [file.name]);
      if (!all && recorded.rows[0]?.checksum === file.checksum) return false;
      const started = Date.now();
      try {
        await tx.query(file.sql);
        await restrictFunctions(tx);
      } catch (err) {
        throw new MigrationError(`functions file ${file.name} failed: ${(err as Error).message}`);
      }
      await tx.query(
        `INSERT INTO schema_functions (name, checksum) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()`,
        [file.name, file.checksum],
      );
      log?.(`applied functions/${file.name} (${Date.now() - started} ms)`);
      return true;
    });
    if (done) applied.push(file.name);
  }
  return applied;
}

export async function migrationStatus(db: Queryable): Promise<{ version: number; name: string | null }> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return { version: 0, name: null };
  const r = await db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1');
  return r.rows[0] ?? { version: 0, name: null };
}
