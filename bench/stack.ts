/**
 * `npm run bench stack`: the local stack (`npm start` with no configuration) as a person
 * runs it, side by side with the same measures on an older commit (by default the last
 * one with the embedded PGlite), each in its own checkout and data folder:
 *   - first start (empty folder: the database made, migrated, the sample dropped) and
 *     restart, from the process start to the ready line;
 *   - memory: PSS (shared pages divided among the processes that share them) summed over
 *     every process of the stack (node, and the PostgreSQL server's processes), idle
 *     after the start, and at its peak during `load all replace` of the real export ×20
 *     run from another terminal (that command's own process included);
 *   - the time of that load, and the database folder's size after it.
 * Options: --baseline <commit>, --factor N (20), --skip-baseline.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { report } from './support';
import { REAL_CSV, scaledExport } from './scaled-export';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const REPO = path.resolve(__dirname, '..');
const READY = 'BenchSight Ops is ready';
const UPSERT_TIMEOUT_MS = 180_000;

interface Variant {
  name: string;
  repo: string;
  dataDir: string;
  dbFolder: string;
}

function env(v: Variant): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, BENCHSIGHT_DATA_DIR: v.dataDir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}

/** Every pid whose parent chain reaches one of `roots`. */
function tree(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = new Set(roots.filter((p) => parent.has(p)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, pp] of parent) if (!out.has(pid) && out.has(pp)) out.add(pid), (grew = true);
  }
  return [...out];
}

function pssMb(pids: number[]): number {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

/** The embedded server's postmaster (not a child of the stack: it runs in its own group). */
function postmaster(v: Variant): number[] {
  try {
    const pid = Number(readFileSync(path.join(v.dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? [pid] : [];
  } catch {
    return [];
  }
}

async function start(v: Variant): Promise<{ child: ChildProcess; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/benchsight.js', 'start'], { cwd: v.repo, env: env(v), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const on = (c: Buffer) => {
      log += c.toString();
      if (log.includes(READY)) resolve();
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`${v.name}: the stack exited (${code}):\n${log.slice(-2000)}`)));
  });
  return { child, ms: performance.now() - t0 };
}

/** Ctrl-C; a stack that does not stop within `ms` (PGlite stuck in a statement) is killed. */
async function stop(child: ChildProcess, ms = 60_000): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitIdle(v: Variant): Promise<void> {
  // The first start's sample loads in the background: wait for the warehouse to have it.
  for (let i = 0; i < 600; i++) {
    const r = spawnSync(process.execPath, ['bin/benchsight.js', 'history', 'limit', '1'], { cwd: v.repo, env: env(v), encoding: 'utf8' });
    if (/succeeded/.test(r.stdout)) return;
    await sleep(500);
  }
}

function duMb(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024;
}

async function measure(v: Variant, exportDir: string): Promise<[string, string][]> {
  const first = await start(v);
  await waitIdle(v);
  await sleep(3000);
  const idle = pssMb(tree([first.child.pid!, ...postmaster(v)]));
  await stop(first.child);
  const again = await start(v);
  await sleep(3000);
  const idleRestart = pssMb(tree([again.child.pid!, ...postmaster(v)]));

  // The ×N load from another terminal, memory sampled every 100 ms.
  const t0 = performance.now();
  const cli = spawn(process.execPath, ['bin/benchsight.js', 'load', 'all', 'replace', '--from', exportDir, '--yes'], {
    cwd: v.repo,
    env: env(v),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  cli.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  cli.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  let peak = 0;
  let peakStack = 0;
  const timer = setInterval(() => {
    const stackPids = tree([again.child.pid!, ...postmaster(v)]);
    peakStack = Math.max(peakStack, pssMb(stackPids));
    peak = Math.max(peak, pssMb([...stackPids, ...tree([cli.pid!])]));
  }, 100);
  const code = await new Promise<number | null>((r) => cli.once('exit', r));
  clearInterval(timer);
  const loadMs = performance.now() - t0;
  if (code !== 0) process.stderr.write(`${v.name}: the load exited ${code}:\n${out.slice(-2000)}\n`);
  const folder = duMb(v.dbFolder);

  // The README's own example, into the warehouse the ×N load left: upsert of the real export.
  const t1 = performance.now();
  const up = spawnSync(process.execPath, ['bin/benchsight.js', 'load', 'all', 'upsert', '--from', REAL_CSV], {
    cwd: v.repo,
    env: env(v),
    encoding: 'utf8',
    timeout: UPSERT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  const upMs = performance.now() - t1;
  const upsert = up.error
    ? `did not finish in ${UPSERT_TIMEOUT_MS / 1000} s (killed)`
    : `${(upMs / 1000).toFixed(2)} s (exit ${up.status}) ${/^(OK|FAILED)[^\n]*/m.exec(up.stdout)?.[0] ?? up.stderr.slice(-300)}`;
  await stop(again.child, 20_000);
  return [
    ['first start (to the ready line)', `${(first.ms / 1000).toFixed(2)} s`],
    ['restart', `${(again.ms / 1000).toFixed(2)} s`],
    ['memory idle after the first start / the restart (PSS, all processes)', `${idle.toFixed(0)} / ${idleRestart.toFixed(0)} MB`],
    ['memory at peak during the load: stack / stack + the command', `${peakStack.toFixed(0)} / ${peak.toFixed(0)} MB`],
    ['`load all replace` of the export, from another terminal', `${(loadMs / 1000).toFixed(2)} s (exit ${code}) ${/^(OK|FAILED)[^\n]*/m.exec(out)?.[0] ?? ''}`],
    ['database folder after the load', `${folder.toFixed(0)} MB (${path.relative(v.dataDir, v.dbFolder)})`],
    ["then `load all upsert --from <the real export>` (the README's example)", upsert],
  ];
}

async function main(): Promise<void> {
  const factor = Number(opt('factor') ?? 20);
  const exportDir = scaledExport(factor);
  const size = readdirSync(exportDir).reduce((n, f) => n + Number(execFileSync('stat', ['-c', '%s', path.join(exportDir, f)], { encoding: 'utf8' })), 0);
  process.stdout.write(`the real export ×${factor}: ${(size / 1e6).toFixed(0)} MB in ${exportDir}\n`);

  const work = mkdtempSync(path.join(tmpdir(), 'bs-bench-stack-'));
  chmodSync(work, 0o755); // (as root the embedded server runs as the OS user postgres)
  const variants: Variant[] = [];
  try {
    if (!args.includes('--skip-baseline')) {
      const baseline =
        opt('baseline') ?? `${execFileSync('git', ['log', '-1', '--format=%H', '--', 'loader/db/pglite.ts'], { cwd: REPO, encoding: 'utf8' }).trim()}^`;
      const sha = execFileSync('git', ['rev-parse', '--short', baseline], { cwd: REPO, encoding: 'utf8' }).trim();
      const old = path.join(work, `old-${sha}`);
      execFileSync('git', ['worktree', 'add', '--detach', '-f', old, baseline], { cwd: REPO, stdio: 'ignore' });
      process.stderr.write(`npm ci in the checkout of ${sha} ...\n`);
      execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: old, stdio: 'ignore' });
      const dataDir = path.join(work, 'data-old');
      variants.push({ name: `${sha} (PGlite)`, repo: old, dataDir, dbFolder: path.join(dataDir, 'pglite') });
    }
    const dataDir = path.join(work, 'data-new');
    variants.push({ name: 'this checkout (embedded PostgreSQL)', repo: REPO, dataDir, dbFolder: path.join(dataDir, 'postgres') });
    for (const v of variants) report(v.name, await measure(v, exportDir));
  } finally {
    for (const v of variants)
      if (v.repo !== REPO && existsSync(v.repo)) execFileSync('git', ['worktree', 'remove', '--force', v.repo], { cwd: REPO, stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
