/**
 * The migrate Lambda as `pulumi up` runs it: the bundle `npm run build` makes, in a
 * process of its own with a Lambda-like environment (only the secret's ARN), reading
 * the connection string from Secrets Manager (a local stand-in) and the migrations and
 * function files shipped next to it, against a real PostgreSQL database.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdas } from '../../infra/build';
import { readFunctionFiles, readMigrations } from '../../loader/db/migrate';
import { runMigrations, sqlDirs } from '../../loader/entry/migrate-lambda';
import { SecretError } from '../../loader/aws/secrets';
import { freshDatabase, type TestDatabase } from '../support/database';
import { startFakeSecretsManager, type FakeSecretsManager } from '../infra/support/fake-secrets-manager';

const run = promisify(execFile);
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bs/database-url-migrator-AbCdEf';
const MISSING_DB_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bs/nowhere';
const PASSWORD = 'Migrator-Pw-7731';

let out: string;
let bundle: string;
let sm: FakeSecretsManager;
let test: TestDatabase;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'bs-migrate-bundle-'));
  const [built] = await buildLambdas(['migrate'], { outDir: out });
  bundle = built!.file;
  test = await freshDatabase();
  const url = new URL(test.url);
  url.password = PASSWORD; // the server trusts local connections; the password must still never show
  const missing = new URL(url);
  missing.pathname = '/bs_no_such_database';
  sm = await startFakeSecretsManager({ [ARN]: url.toString(), [MISSING_DB_ARN]: missing.toString() });
}, 120_000);

afterAll(async () => {
  await sm?.close();
  await test?.drop();
  rmSync(out, { recursive: true, force: true });
});

/** Invokes the bundle's handler as Lambda would: a fresh process, env holding only ARNs. */
async function invoke(secretArn: string): Promise<{ result?: unknown; error?: string; logs: string }> {
  const script = `require(${JSON.stringify(bundle)}).handler({ action: 'migrate' }, {}).then(
    (r) => process.stdout.write('RESULT ' + JSON.stringify(r)),
    (e) => { process.stdout.write('ERROR ' + e.message); })`;
  const { stdout, stderr } = await run(process.execPath, ['-e', script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      DATABASE_SECRET_ARN: secretArn,
    },
  });
  const logs = stdout + stderr;
  const result = /RESULT (.*)$/s.exec(stdout)?.[1];
  const error = /ERROR (.*)$/s.exec(stdout)?.[1];
  return { result: result ? JSON.parse(result) : undefined, error, logs };
}

describe('the migrate function', () => {
  it('applies every migration and function file shipped in its bundle, then the exposure rules, and says so', async () => {
    const first = await invoke(ARN);
    expect(first.error).toBeUndefined();
    expect(first.result).toEqual({
      applied: readMigrations().map((m) => m.name),
      version: readMigrations().at(-1)!.version,
      functions: readFunctionFiles().map((f) => f.name),
      exposure: 'applied',
    });
    expect(first.logs).toContain('applied 000001_warehouse.sql');
    expect(first.logs).toContain('applied functions/apply.sql');
    expect(first.logs).not.toContain(PASSWORD);
    const tables = await test.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'fact_events'");
    expect(tables.rows[0]!.n).toBe(1);
  }, 60_000);

  it('finds nothing to do when invoked again', async () => {
    const again = await invoke(ARN);
    expect(again.result).toMatchObject({ applied: [], functions: [], exposure: 'applied' });
    expect(sm.calls.filter((c) => c === ARN)).toHaveLength(2); // one read per cold start
  }, 60_000);

  it('fails with the database error, so the invocation and the deploy fail, without the password', async () => {
    const failed = await invoke(MISSING_DB_ARN);
    expect(failed.result).toBeUndefined();
    expect(failed.error).toMatch(/bs_no_such_database/);
    expect(failed.logs).not.toContain(PASSWORD);
  }, 60_000);

  it('waits out the seconds IAM takes to apply a new role policy, and only for that', async () => {
    const logs: string[] = [];
    let calls = 0;
    const read = async () => {
      calls++;
      if (calls < 3) throw new SecretError(`cannot read secret ${ARN}: AccessDeniedException: not authorized`);
      return test.url;
    };
    const outcome = await runMigrations({ env: { DATABASE_SECRET_ARN: ARN }, read, log: (l) => logs.push(l), retry: { attempts: 5, delayMs: 10 } });
    expect(outcome).toMatchObject({ applied: [], exposure: 'applied' });
    expect(calls).toBe(3);
    expect(logs.filter((l) => l.includes('retrying'))).toHaveLength(2);

    const missing = async () => {
      throw new SecretError(`cannot read secret ${ARN}: ResourceNotFoundException: no such secret`);
    };
    await expect(
      runMigrations({ env: { DATABASE_SECRET_ARN: ARN }, read: missing, log: () => undefined, retry: { attempts: 5, delayMs: 10 } }),
    ).rejects.toThrow(/ResourceNotFoundException/);
  });

  it('reads the shipped SQL next to the bundle, and sql/ when run from source', () => {
    const shipped = path.join(path.dirname(bundle), 'sql');
    expect(sqlDirs(path.dirname(bundle))).toEqual({ migrations: path.join(shipped, 'migrations'), functions: path.join(shipped, 'functions') });
    expect(readFunctionFiles(path.join(shipped, 'functions'))).toEqual(readFunctionFiles());
    const source = path.resolve(__dirname, '../../sql');
    expect(sqlDirs(path.join(tmpdir(), 'nowhere'))).toEqual({ migrations: path.join(source, 'migrations'), functions: path.join(source, 'functions') });
  });
});
