/**
 * sql/functions: the current definition of every function (and of the triggers that run
 * them), applied by migrate after the versioned migrations, which make none. A database at
 * an older version, migrated now, ends like a new one (test/migrate.test.ts: also one that
 * applied the migrations' text from before the bodies moved here). No function lives
 * outside the folder, none in two files, and sql/README.md names every file and function.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../loader/db/database';
import { FUNCTIONS_DIR, migrate, readFunctionFiles, readMigrations } from '../../loader/db/migrate';
import { freshDatabase, type TestDatabase } from '../support/database';

interface Fn {
  signature: string;
  definition: string;
  owner: string;
  acl: string | null;
}

/** Every function of the project's schemas, as the server describes it. */
async function functions(db: Queryable): Promise<Map<string, Fn>> {
  const r = await db.query<Fn>(`
    SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition,
           pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('public', 'landing')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1`);
  return new Map(r.rows.map((f) => [f.signature, f]));
}

async function triggers(db: Queryable): Promise<string[]> {
  const r = await db.query<{ t: string }>('SELECT pg_get_triggerdef(oid) AS t FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1');
  return r.rows.map((x) => x.t);
}

const nameOf = (signature: string) => signature.replace(/\(.*$/, '');

const dbs: TestDatabase[] = [];
let before: TestDatabase;
let after: TestDatabase;
beforeAll(async () => {
  [before, after] = await Promise.all([freshDatabase(), freshDatabase()]);
  dbs.push(before, after);
  await Promise.all([migrate(before.db, { functions: [] }), migrate(after.db)]);
}, 120_000);
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

describe('the function files', () => {
  it('are the only place a function or its trigger is made: the versioned migrations make none', async () => {
    expect([...(await functions(before.db)).keys()], 'functions made by sql/migrations: their definition belongs in sql/functions').toEqual([]);
    expect(await triggers(before.db), 'triggers made by sql/migrations: they belong beside their function in sql/functions').toEqual([]);
    expect((await functions(after.db)).size).toBeGreaterThan(60);
    expect((await triggers(after.db)).map((t) => t.replace(/^CREATE (CONSTRAINT )?TRIGGER (\w+) .*$/, '$2'))).toEqual([
      'bs_parked_indexes_restored',
      'bs_shadow_pending_swapped',
      'load_history_s3_claim',
      'staging_events_game_end',
    ]);
  });

  it('keep quality_rules to the rules quality.sql declares: added, changed and removed with the file', async () => {
    const own = await freshDatabase();
    dbs.push(own);
    await migrate(own.db);
    const files = readFunctionFiles();
    const quality = files.find((f) => f.name === 'quality.sql')!;
    const edited = quality.sql
      .replace(/\n {2}\('fo_pct', [^\n]*\n[^\n]*\n/, '\n') // removed
      .replace("'Pass completion % must be 0-100'", "'Pass completion % must be 0-100 (edited)'") // changed
      .replace(
        'WITH declared (rule, stat_name, level, measure, check_kind, low, high, severity, message, description) AS (VALUES\n',
        "$&  ('goals_per_game_test', 'goals', 'player', 'goals', 'above', NULL, 9, 'WARNING', 'game {game}: {subject} scored {value}', 'a test rule'),\n",
      ); // added
    expect(edited).not.toBe(quality.sql);
    const r = await migrate(own.db, { functions: files.map((f) => (f === quality ? { ...f, sql: edited, checksum: `${f.checksum}!` } : f)) });
    expect(r.functions).toEqual(['quality.sql']);
    const rules = await own.db.query<{ rule: string; description: string; high: string | null }>('SELECT rule, description, high FROM quality_rules');
    const byRule = new Map(rules.rows.map((x) => [x.rule, x]));
    expect(byRule.has('fo_pct')).toBe(false);
    expect(byRule.get('pass_pct')!.description).toBe('Pass completion % must be 0-100 (edited)');
    expect(byRule.get('goals_per_game_test')).toEqual({ rule: 'goals_per_game_test', description: 'a test rule', high: '9' });
  });

  it('hold the definition of every function the database has, each in one file', async () => {
    const declared = new Map<string, string>();
    for (const f of readFunctionFiles()) {
      for (const m of f.sql.matchAll(/^CREATE OR REPLACE FUNCTION ([a-z_0-9]+)\(/gm)) {
        expect(declared.get(m[1]!), `${m[1]} is defined in ${declared.get(m[1]!)} and in ${f.name}`).toBeUndefined();
        declared.set(m[1]!, f.name);
      }
      // no tables, indexes or schemas in a function file: they belong to the migrations; a
      // trigger only beside its function, in the same file
      const outside = f.sql.replace(/\$\$[\s\S]*?\$\$/g, '').replace(/--[^\n]*/g, '');
      expect(outside, f.name).not.toMatch(/\b(CREATE|ALTER|DROP) (TABLE|INDEX|SCHEMA)\b/i);
      for (const t of outside.matchAll(/\bCREATE (?:OR REPLACE )?(?:CONSTRAINT )?TRIGGER\b[^;]*?EXECUTE FUNCTION ([a-z_0-9]+)\(/gi)) {
        expect(outside, `${f.name}: a trigger running ${t[1]}, which another file defines`).toMatch(new RegExp(`CREATE OR REPLACE FUNCTION ${t[1]}\\(`));
      }
    }
    const names = [...new Set([...(await functions(after.db)).keys()].map(nameOf))].sort();
    expect(
      names.filter((n) => !declared.has(n)),
      `functions without a file in ${path.relative(process.cwd(), FUNCTIONS_DIR)}`,
    ).toEqual([]);
    expect(
      [...declared.keys()].filter((n) => !names.includes(n)),
      'functions declared but not in the database',
    ).toEqual([]);
  });

  it('make a database migrated from an older version end exactly like a new one', async () => {
    const old = await freshDatabase();
    dbs.push(old);
    const migrations = readMigrations();
    // a database of the days before the function files, at version 5
    await migrate(old.db, { migrations: migrations.slice(0, 5), functions: [] });
    const r = await migrate(old.db);
    expect(r.applied).toEqual(migrations.slice(5).map((m) => m.name));
    expect(r.functions).toEqual(readFunctionFiles().map((f) => f.name));
    expect(await functions(old.db)).toEqual(await functions(after.db));
    expect(await triggers(old.db)).toEqual(await triggers(after.db));
    // and the database of just before them (every migration applied, no file)
    const r2 = await migrate(before.db);
    expect(r2).toMatchObject({ applied: [], functions: readFunctionFiles().map((f) => f.name) });
    expect(await functions(before.db)).toEqual(await functions(after.db));
  });

  it('are each named in sql/README.md with their functions, and every SQL file it names exists', () => {
    const sql = path.join(__dirname, '../../sql');
    const readme = readFileSync(path.join(sql, 'README.md'), 'utf8');
    const named = new Set([...readme.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    for (const f of readFunctionFiles()) {
      expect(named.has(f.name) || named.has(`functions/${f.name}`), `sql/README.md does not name ${f.name}`).toBe(true);
      for (const m of f.sql.matchAll(/^CREATE OR REPLACE FUNCTION ([a-z_0-9]+)\(/gm)) {
        expect(named.has(m[1]!), `sql/README.md ("Where each function lives") does not name ${m[1]} of ${f.name}`).toBe(true);
      }
    }
    for (const file of [...named].filter((n) => /^[a-z0-9_/.-]+\.sql$/.test(n))) {
      const found = [file, `functions/${file}`, `migrations/${file}`].some((f) => existsSync(path.join(sql, f)));
      expect(found, `sql/README.md names ${file}, which does not exist`).toBe(true);
    }
  });
});
