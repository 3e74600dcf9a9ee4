/**
 * The stack's reading of the SQL migrate applies (sql/migrations, sql/functions): the hash
 * that re-runs the migrate function and the table list the grants follow, checked against
 * a really migrated database.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../loader/warehouse';
import { migrationsHash, readMigrationFiles, READ_ONLY_FOR_LOADER, schemasCreatedBy, tableGrants, tablesCreatedBy } from '../../infra/migrations';
import { freshDatabase, type TestDatabase } from '../support/database';

let test: TestDatabase | undefined;
afterAll(async () => test?.drop());

describe('migrations seen by the stack', () => {
  it('hashes names and contents: any edit, addition or rename changes it', () => {
    const files = readMigrationFiles();
    const hash = migrationsHash(files);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(migrationsHash(readMigrationFiles())).toBe(hash);
    const [first, ...rest] = files;
    expect(migrationsHash([{ ...first!, sql: `${first!.sql}\n-- edit` }, ...rest])).not.toBe(hash);
    expect(migrationsHash([...files, { name: '000099_more.sql', sql: 'SELECT 1;' }])).not.toBe(hash);
    expect(migrationsHash([{ ...first!, name: '000000_renamed.sql' }, ...rest])).not.toBe(hash);
    expect(migrationsHash(files.map((f) => ({ ...f, sql: f.sql.replace(/\n/g, '\r\n') })))).toBe(hash);
    // a function file is one of them: changing it re-runs the migrate function too
    const fn = files.findIndex((f) => f.name === 'functions/apply.sql');
    expect(fn).toBeGreaterThan(0);
    expect(migrationsHash(files.map((f, i) => (i === fn ? { ...f, sql: `${f.sql}\n-- edit` } : f)))).not.toBe(hash);
  });

  it('lists exactly the tables a migrated database has', async () => {
    test = await freshDatabase({ migrated: true });
    const r = await test.db.query<{ t: string }>(
      "SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    );
    expect(tablesCreatedBy(readMigrationFiles()).sort()).toEqual(r.rows.map((x) => x.t).sort());
    const schemas = await test.db.query<{ s: string }>(
      "SELECT nspname AS s FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'",
    );
    expect(schemasCreatedBy(readMigrationFiles()).sort()).toEqual(schemas.rows.map((x) => x.s).sort());
  });

  it('ignores temporary tables, comments, and tables dropped again', () => {
    const tables = tablesCreatedBy([
      { name: '1.sql', sql: 'CREATE TABLE a (x int);\n-- CREATE TABLE not_me (x int);\nCREATE UNLOGGED TABLE IF NOT EXISTS public.b (x int);' },
      {
        name: '2.sql',
        sql: 'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE TEMP TABLE t ON COMMIT DROP AS SELECT 1; END $$;\nDROP TABLE IF EXISTS a;',
      },
    ]);
    expect(tables).toEqual(['schema_migrations', 'schema_functions', 'b']);
    expect(
      tablesCreatedBy([
        { name: '3.sql', sql: "CREATE SCHEMA landing;\nEXECUTE format('CREATE TABLE landing.%I (x int)', t);\nCREATE TABLE landing.fixed (x int);" },
      ]),
    ).toEqual(['schema_migrations', 'schema_functions']);
    expect(schemasCreatedBy([{ name: '1.sql', sql: 'CREATE SCHEMA landing; CREATE SCHEMA IF NOT EXISTS old; DROP SCHEMA old CASCADE;' }])).toEqual(['landing']);
  });

  it('lets the loader write every table but the catalog and schema_migrations, and the reader read the warehouse', () => {
    const g = tableGrants(tablesCreatedBy(readMigrationFiles()));
    expect(g.loaderWrites).toEqual(expect.arrayContaining([...TABLE_NAMES, 'load_history', 'load_rejects', 'etl_queue', 'staging_events', 'staging_shifts']));
    for (const t of READ_ONLY_FOR_LOADER) expect(g.loaderWrites).not.toContain(t);
    expect(g.loaderReads.sort()).toEqual([...READ_ONLY_FOR_LOADER].sort());
    expect(g.readerReads).toEqual([...TABLE_NAMES]);
    expect(() => tableGrants(['schema_migrations'])).toThrow(/the migrations create no table dim_player/);
  });
});
