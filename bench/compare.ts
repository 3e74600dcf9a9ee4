/**
 * `npm run bench compare -- <bench> [--baseline <commit>] [--rounds N] [-- <the bench's options>]`:
 * one benchmark script run on an older commit and on this checkout, in turns, in one run
 * (machines here are shared and noisy: turns on the same minutes are the fair comparison).
 * The older commit is checked out beside (git worktree), `npm ci`ed, and shares the
 * generated data cache (.benchsight/bench-data). Default baseline: the commit before the
 * embedded PostgreSQL (the last one with loader/db/pglite.ts).
 * Example: npm run bench compare -- load --rounds 2 -- --skip-rss
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const passed = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const opt = (name: string) => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 ? own[i + 1] : undefined;
};
const bench = own[0];
if (!bench || bench.startsWith('--') || !existsSync(path.join(__dirname, `${bench}.ts`))) {
  process.stderr.write('usage: npm run bench compare -- <bench> [--baseline <commit>] [--rounds N] [-- <options of the bench>]\n');
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  // said before the baseline's npm ci, not after every turn of the bench
  process.stderr.write('benchmarks need DATABASE_URL (a server where they may create a scratch database)\n');
  process.exit(2);
}
const rounds = Number(opt('rounds') ?? 2);
const baseline =
  opt('baseline') ?? `${execFileSync('git', ['log', '-1', '--format=%H', '--', 'loader/db/pglite.ts'], { cwd: REPO, encoding: 'utf8' }).trim()}^`;
const sha = execFileSync('git', ['rev-parse', '--short', baseline], { cwd: REPO, encoding: 'utf8' }).trim();

// Beside this checkout, so that the baseline finds ../shared (the real export) where this one does.
const old = path.join(path.dirname(REPO), `bench-baseline-${sha}`);
try {
  execFileSync('git', ['worktree', 'add', '--detach', '-f', old, baseline], { cwd: REPO, stdio: 'ignore' });
  process.stderr.write(`npm ci in the checkout of ${sha} ...\n`);
  execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: old, stdio: 'ignore' });
  mkdirSync(path.join(REPO, '.benchsight', 'bench-data'), { recursive: true });
  mkdirSync(path.join(old, '.benchsight'), { recursive: true });
  symlinkSync(path.join(REPO, '.benchsight', 'bench-data'), path.join(old, '.benchsight', 'bench-data'));
  const sides = [
    { name: `${sha} (baseline)`, repo: old },
    { name: 'this checkout', repo: REPO },
  ];
  for (let r = 1; r <= rounds; r++) {
    // Turns alternate which side goes first.
    for (const s of r % 2 ? sides : [...sides].reverse()) {
      process.stdout.write(`\n======== round ${r} of ${rounds}: ${s.name} ========\n`);
      const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(s.repo, 'bench', `${bench}.ts`), ...passed], {
        cwd: s.repo,
        stdio: 'inherit',
        env: process.env,
      });
      if (run.status !== 0) {
        process.stdout.write(`(${s.name}: the bench exited ${run.status})\n`);
        process.exitCode = 1;
      }
    }
  }
} finally {
  if (existsSync(old)) execFileSync('git', ['worktree', 'remove', '--force', old], { cwd: REPO, stdio: 'ignore' });
  rmSync(old, { recursive: true, force: true });
}
