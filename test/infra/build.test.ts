/**
 * `npm run build`: one bundle per function in dist/<name>/index.js, exporting `handler`,
 * where the stack reads it. An entry that does not exist yet fails the build, naming it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdas, parseBuildArgs } from '../../infra/build';
import { bundleDir, bundleFile, bundleProblems, LAMBDA_ENTRIES, LAMBDA_NAMES, readStamp, ROOT, staticImportChain } from '../../infra/bundles';
import { freshBundles } from './support/bundles';
import { withDistLock } from './support/bundles';

const present = LAMBDA_NAMES.filter((n) => existsSync(path.join(ROOT, LAMBDA_ENTRIES[n])));
const absent = LAMBDA_NAMES.filter((n) => !present.includes(n));

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempRoot(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'bs-build-'));
  temps.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('npm run build', () => {
  it(`bundles the entries that exist (${present.join(', ') || 'none'}) into dist/<name>/index.js, stamped as current`, async () => {
    expect(present).toContain('migrate');
    // Other test files read dist/ meanwhile (the stack refuses stale bundles): one writer at a time.
    await withDistLock(async () => {
      execFileSync('npm', ['run', '--silent', 'build', '--', ...present], { cwd: ROOT, stdio: 'pipe' });
    });
    for (const name of present) expect(existsSync(bundleFile(name)), name).toBe(true);
    expect(bundleProblems(ROOT, present)).toEqual([]);
  }, 180_000);

  it('makes a bundle that exports handler, and needs nothing from node_modules', () => {
    // Loaded from another folder: no node_modules to fall back on. (The bot's bundle needs
    // Node 22, as on Lambda, so only the migrate bundle is loaded on this Node.)
    const type = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundleFile('migrate'))}).handler)`], {
      cwd: tmpdir(),
    }).toString();
    expect(type).toBe('function');
  });

  it('ships the migration files inside the migrate bundle', () => {
    const shipped = readdirSync(path.join(bundleDir('migrate'), 'sql', 'migrations')).sort();
    expect(shipped).toEqual(
      readdirSync(path.join(ROOT, 'sql', 'migrations'))
        .filter((f) => f.endsWith('.sql'))
        .sort(),
    );
  });

  for (const name of absent) {
    it(`fails clearly while the ${name} entry (${LAMBDA_ENTRIES[name]}) does not exist yet`, () => {
      let stderr = '';
      try {
        execFileSync('npm', ['run', '--silent', 'build', '--', name], { cwd: ROOT, stdio: 'pipe' });
      } catch (err) {
        stderr = String((err as { stderr?: Buffer }).stderr);
      }
      expect(stderr).toContain(`cannot build the ${name} bundle: its entry ${LAMBDA_ENTRIES[name]} does not exist`);
    }, 60_000);
  }

  it('names an unknown bundle', () => {
    expect(() => parseBuildArgs(['migrate', 'lambda'])).toThrow(/unknown bundle lambda: the bundles are loader, worker, bot, migrate/);
    expect(parseBuildArgs([])).toEqual(LAMBDA_NAMES);
  });
});

describe('a stale bundle', () => {
  const files = {
    'loader/entry/migrate-lambda.ts': `import { answer } from '../db/answer';\nexport const handler = async () => answer;\n`,
    'loader/db/answer.ts': 'export const answer = 42;\n',
    'sql/migrations/000001_a.sql': 'SELECT 1;\n',
    'sql/functions/a.sql': 'SELECT 2;\n',
  };

  it('is refused, naming the files that changed since the build and what to run', async () => {
    const root = tempRoot(files);
    await buildLambdas(['migrate'], { root });
    expect(bundleProblems(root, ['migrate'])).toEqual([]);
    writeFileSync(path.join(root, 'loader/db/answer.ts'), 'export const answer = 43;\n');
    expect(bundleProblems(root, ['migrate'])).toEqual([
      'dist/migrate is stale: loader/db/answer.ts changed since it was built; run `npm run build` before `pulumi up`',
    ]);
    await buildLambdas(['migrate'], { root });
    writeFileSync(path.join(root, 'sql/migrations/000002_b.sql'), 'SELECT 3;\n');
    expect(bundleProblems(root, ['migrate'])).toEqual([
      'dist/migrate is stale: sql/migrations/ changed since it was built; run `npm run build` before `pulumi up`',
    ]);
  });

  it('is refused when missing, or built before bundles were stamped', async () => {
    const root = tempRoot(files);
    expect(bundleProblems(root, ['migrate'])).toEqual(['dist/migrate/index.js is missing: run `npm run build` before `pulumi up`']);
    await buildLambdas(['migrate'], { root });
    rmSync(path.join(root, 'dist', 'migrate.build.json'));
    expect(bundleProblems(root, ['migrate'])[0]).toMatch(/^dist\/migrate has no build stamp .* run `npm run build` again$/);
  });
});

describe('keeping the embedded database out of the Lambdas', () => {
  beforeAll(freshBundles, 180_000);

  const db = `import { useEmbedded } from './embedded';\nexport const open = () => useEmbedded();\n`;
  const embedded = `export const useEmbedded = () => 'a local PostgreSQL server';\n`;

  it('fails a bundle that loads the embedded server when it starts, showing the chain of imports', async () => {
    const root = tempRoot({
      'loader/entry/loader-lambda.ts': `import { open } from '../db/connect';\nexport const handler = async () => open();\n`,
      'loader/db/connect.ts': db,
      'loader/db/embedded.ts': embedded,
    });
    await expect(buildLambdas(['loader'], { root })).rejects.toThrow(
      'the loader bundle loads the embedded database, which Lambdas do not ship: loader/entry/loader-lambda.ts → loader/db/connect.ts → loader/db/embedded.ts',
    );
  });

  it('accepts a lazy import() that a Lambda never takes', async () => {
    const root = tempRoot({
      'loader/entry/loader-lambda.ts': `export const handler = async (local: boolean) => (local ? (await import('../db/connect')).open() : null);\n`,
      'loader/db/connect.ts': db,
      'loader/db/embedded.ts': embedded,
    });
    const [built] = await buildLambdas(['loader'], { root });
    expect(existsSync(built!.file)).toBe(true);
  });

  it('reads the chain from esbuild metafile', () => {
    const meta = {
      inputs: {
        'a.ts': { imports: [{ path: 'b.ts', kind: 'import-statement' }] },
        'b.ts': {
          imports: [
            { path: 'c.ts', kind: 'require-call' },
            { path: 'pkg', kind: 'dynamic-import', external: true },
          ],
        },
        'c.ts': { imports: [] },
      },
    };
    expect(staticImportChain(meta, 'a.ts', 'pkg')).toBeNull();
    meta.inputs['c.ts'].imports.push({ path: 'pkg/sub', kind: 'import-statement', external: true } as never);
    expect(staticImportChain(meta, 'a.ts', 'pkg')).toEqual(['a.ts', 'b.ts', 'c.ts', 'pkg/sub']);
  });

  it('fails a bundle whose entry does not export handler, naming it', async () => {
    const root = tempRoot({ 'loader/entry/worker-lambda.ts': 'export const main = async () => 1;\n' });
    await expect(buildLambdas(['worker'], { root })).rejects.toThrow('cannot build the worker bundle: loader/entry/worker-lambda.ts does not export handler');
  });

  it('leaves Socket Mode and Express out of the bundles (Bolt loads them, a Lambda never uses them), and a call into them says so', async () => {
    const root = tempRoot({
      'loader/entry/bot-lambda.ts': `import express from 'express';\nexport const handler = async () => express();\n`,
    });
    const [built] = await buildLambdas(['bot'], { root });
    expect(built!.sources.some((s) => s.includes('node_modules/express/'))).toBe(false);
    let message = '';
    try {
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(built!.file)}).handler().catch((e) => { console.error(e.message); process.exit(3); })`], {
        stdio: 'pipe',
      });
    } catch (err) {
      message = String((err as { stderr?: Buffer }).stderr);
    }
    expect(message).toContain("express is not in the Lambda bundles: Bolt's ExpressReceiver (the bot Lambda uses AwsLambdaReceiver)");
    const bot = readStamp('bot');
    expect(bot?.sources.filter((s) => /node_modules\/(express|@slack\/socket-mode|undici)\//.test(s))).toEqual([]);
  });

  it('names a missing entry without building anything', async () => {
    const root = tempRoot({});
    await expect(buildLambdas(['bot', 'migrate'], { root })).rejects.toThrow(
      'cannot build the bot bundle: its entry loader/entry/bot-lambda.ts does not exist\ncannot build the migrate bundle: its entry loader/entry/migrate-lambda.ts does not exist',
    );
    expect(existsSync(path.join(root, 'dist'))).toBe(false);
  });
});
