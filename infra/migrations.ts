/**
 * Pure helpers over the SQL files migrate applies (sql/migrations, then sql/functions)
 * for the Pulumi program: the hash that re-runs the migrate function when a file changes,
 * and the tables the files create, from which the roles' table grants are computed (so a
 * table added by a migration is granted in the same `pulumi up` that creates it).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TABLE_NAMES } from '../loader/warehouse';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../sql/migrations');
export const FUNCTIONS_DIR = path.resolve(__dirname, '../sql/functions');

export interface MigrationFile {
  name: string;
  sql: string;
}

/**
 * The SQL files migrate applies: the migrations, then the function files (named
 * `functions/<file>`), each folder in name order. (The function files create no tables:
 * tables belong to the migrations.)
 */
export function readMigrationFiles(dir = MIGRATIONS_DIR, functionsDir = FUNCTIONS_DIR): MigrationFile[] {
  const read = (folder: string, prefix: string) =>
    readdirSync(folder)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((name) => ({ name: prefix + name, sql: readFileSync(path.join(folder, name), 'utf8') }));
  return [...read(dir, ''), ...read(functionsDir, 'functions/')];
}

/** Changes whenever a migration or function file is added, removed, renamed or edited. */
export function migrationsHash(files: MigrationFile[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(f.name).update('\0').update(f.sql.replace(/\r\n/g, '\n')).update('\0');
  return h.digest('hex');
}

const NAME = '"?([a-z_][a-z0-9_]*)"?';
/** The name ends here: `landing.%I` (a name built at run time) is not table `landing`. */
const END = '(?![a-z0-9_."%$])';
const CREATE_TABLE = new RegExp(
  `\\bCREATE\\s+(?:(?:GLOBAL|LOCAL)\\s+)?(TEMP\\s+|TEMPORARY\\s+|UNLOGGED\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(?:${NAME}\\.)?${NAME}${END}`,
  'gi',
);
const DROP_TABLE = new RegExp(`\\bDROP\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?(?:${NAME}\\.)?${NAME}${END}`, 'gi');
const CREATE_SCHEMA = new RegExp(`\\bCREATE\\s+SCHEMA\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${NAME}`, 'gi');
const DROP_SCHEMA = new RegExp(`\\bDROP\\s+SCHEMA\\s+(?:IF\\s+EXISTS\\s+)?${NAME}`, 'gi');

/** Strips `--` comments, so that a table named in a comment is not taken for one. */
function withoutComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '');
}

/**
 * The permanent tables the migrations leave in schema public, in order of creation
 * (temporary tables made inside functions are not), plus `schema_migrations` and
 * `schema_functions`, which the migrations runner creates itself.
 */
export function tablesCreatedBy(files: MigrationFile[]): string[] {
  const tables: string[] = ['schema_migrations', 'schema_functions'];
  for (const f of files) {
    const sql = withoutComments(f.sql);
    const events: { at: number; table: string; create: boolean }[] = [];
    const inPublic = (schema: string | undefined) => !schema || schema.toLowerCase() === 'public';
    for (const m of sql.matchAll(CREATE_TABLE)) {
      if ((m[1] && /^temp/i.test(m[1])) || !inPublic(m[2])) continue;
      events.push({ at: m.index ?? 0, table: m[3]!.toLowerCase(), create: true });
    }
    for (const m of sql.matchAll(DROP_TABLE)) {
      if (inPublic(m[1])) events.push({ at: m.index ?? 0, table: m[2]!.toLowerCase(), create: false });
    }
    for (const e of events.sort((a, b) => a.at - b.at)) {
      const i = tables.indexOf(e.table);
      if (e.create && i < 0) tables.push(e.table);
      if (!e.create && i >= 0) tables.splice(i, 1);
    }
  }
  return tables;
}

/**
 * Schemas other than public that the migrations create (e.g. `landing`, where files'
 * rows wait for load_table): the loader works in them; Supabase's API never sees them.
 */
export function schemasCreatedBy(files: MigrationFile[]): string[] {
  const schemas: string[] = [];
  for (const f of files) {
    const sql = withoutComments(f.sql);
    const events = [
      ...[...sql.matchAll(CREATE_SCHEMA)].map((m) => ({ at: m.index ?? 0, schema: m[1]!.toLowerCase(), create: true })),
      ...[...sql.matchAll(DROP_SCHEMA)].map((m) => ({ at: m.index ?? 0, schema: m[1]!.toLowerCase(), create: false })),
    ];
    for (const e of events.sort((a, b) => a.at - b.at)) {
      const i = schemas.indexOf(e.schema);
      if (e.create && i < 0) schemas.push(e.schema);
      if (!e.create && i >= 0) schemas.splice(i, 1);
    }
  }
  return schemas;
}

/** Tables only the migrator writes: the loader may read them, never change them. */
export const READ_ONLY_FOR_LOADER = [
  'schema_migrations',
  'schema_functions',
  'bs_settings',
  'warehouse_tables',
  'warehouse_columns',
  'warehouse_relations',
  'quality_rules', // declared by sql/functions/quality.sql, applied by migrate
  'bs_parked_indexes', // its definitions run with the owner's rights (000007): never the loader's to write
];

export interface TableGrants {
  /** SELECT, INSERT, UPDATE, DELETE, TRUNCATE for the loader role. */
  loaderWrites: string[];
  /** SELECT only for the loader role. */
  loaderReads: string[];
  /** SELECT for the dashboards' read-only role: the warehouse tables (dims and facts). */
  readerReads: string[];
}

export function tableGrants(tables: string[]): TableGrants {
  const missing = TABLE_NAMES.filter((t) => !tables.includes(t));
  if (missing.length) throw new Error(`the migrations create no table ${missing.join(', ')} of the warehouse declaration`);
  return {
    loaderWrites: tables.filter((t) => !READ_ONLY_FOR_LOADER.includes(t)),
    loaderReads: tables.filter((t) => READ_ONLY_FOR_LOADER.includes(t)),
    readerReads: [...TABLE_NAMES],
  };
}
