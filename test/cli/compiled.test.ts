/**
 * The compiled CLI (bin/build-cli.js → dist/cli) as a person meets it, in a copy of the
 * sources (so that editing one here disturbs no other test): the first command builds it
 * when it is missing, an edited source is what the next command runs, two commands
 * started at once on a missing build both answer, and a source that does not compile is
 * named with its line and column.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
let root: string;

/** `node bin/benchsight.js <argv>` in the copy, with no database anywhere. */
async function benchsight(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, BENCHSIGHT_DATA_DIR: path.join(root, '.benchsight') };
  return promisify(execFile)(process.execPath, [path.join(root, 'bin', 'benchsight.js'), ...argv], { cwd: root, env, timeout: 120_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'bs-compiled-'));
  const skip = new Set(['dist', 'node_modules', '.benchsight']);
  for (const f of ['bin', 'loader', 'bot', 'portal', 'sql', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    cpSync(path.join(REPO, f), path.join(root, f), { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  }
  symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the compiled CLI', () => {
  it('is built by the first command when missing, then run as built', async () => {
    expect(existsSync(path.join(root, 'dist', 'cli'))).toBe(false);
    const first = await benchsight('help');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('load table <table>');
    const manifest = path.join(root, 'dist', 'cli', 'build.json');
    const built = statSync(manifest).mtimeMs;
    const again = await benchsight('help');
    expect(again.stdout).toBe(first.stdout);
    expect(statSync(manifest).mtimeMs).toBe(built);
  }, 180_000);

  it('runs an edited source at the next command, without a build command', async () => {
    const program = path.join(root, 'loader', 'cli', 'program.ts');
    const before = readFileSync(program, 'utf8');
    expect(before).toContain('BenchSight Ops: load the warehouse');
    writeFileSync(program, before.replace('BenchSight Ops: load the warehouse', 'BenchSight Ops (edited here): load the warehouse'));
    const r = await benchsight('--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('BenchSight Ops (edited here): load the warehouse');
  }, 180_000);

  it('answers two commands started at once on a missing build', async () => {
    rmSync(path.join(root, 'dist'), { recursive: true, force: true });
    const [a, b] = await Promise.all([benchsight('help', 'rejects'), benchsight('counts', '--bogus')]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('rejects <history id>');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("unknown option '--bogus'");
  }, 180_000);

  it('says which file, line and column do not compile, and exits 1', async () => {
    const config = path.join(root, 'loader', 'config.ts');
    const before = readFileSync(config, 'utf8');
    writeFileSync(config, `${before}\nexport const broken = ;\n`);
    try {
      const r = await benchsight('help');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /cannot build the compiled CLI in dist\/cli \(loader\/config\.ts changed\).*\n.*loader\/config\.ts:\d+:\d+: ERROR: Unexpected ";"/,
      );
    } finally {
      writeFileSync(config, before);
    }
    expect((await benchsight('help')).code).toBe(0);
  }, 180_000);
});
