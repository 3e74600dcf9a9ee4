/**
 * `npm run bench startup [-- --runs N] [--skip-tsx]`: how quickly the `benchsight` command
 * answers, as whole processes in turns, beside PostgreSQL's own client in the same run:
 *
 * - `benchsight counts` (the compiled CLI, bin/benchsight.js) on a migrated scratch database,
 *   against `psql -c` of counts (scale.ts's three), started and connected the same way;
 * - `benchsight help` and a mistyped command (no database: what parsing costs);
 * - `node -e 0`: Node's own start, the floor under any Node command;
 * - `benchsight counts` from the TypeScript sources through tsx (`node --import tsx
 *   loader/entry/cli.ts`), as bin/benchsight.js ran it before the compiled CLI.
 *
 * Each case: median and slowest wall time, median peak RSS (`/usr/bin/time`'s maximum
 * resident set size), and the ratio of its median to psql's. The machines here are shared
 * and noisy: read the ratios, not the absolute times.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { median, type Run, report, runProcess, scratchDatabase } from './support';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const REPO = path.resolve(__dirname, '..');
const CLI = path.join(REPO, 'bin', 'benchsight.js');
const COUNTS = 'SELECT (SELECT count(*) FROM dim_player) + (SELECT count(*) FROM fact_events) + (SELECT count(*) FROM fact_events_player) AS n';

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/time')) throw new Error('this bench reads peak RSS with /usr/bin/time (Debian package time)');
  const runs = Number(opt('runs', '15'));
  const s = await scratchDatabase('bench_startup');
  try {
    const env = { ...process.env, DATABASE_URL: s.url, NO_COLOR: '1' };
    const cases: { name: string; run: () => Promise<Run>; code?: number }[] = [
      { name: 'psql -c (three counts)', run: () => runProcess('psql', ['-X', '-q', '-At', s.url, '-c', COUNTS], env) },
      { name: 'benchsight counts', run: () => runProcess(process.execPath, [CLI, 'counts'], env) },
      { name: 'benchsight help', run: () => runProcess(process.execPath, [CLI, 'help'], env) },
      { name: 'benchsight lod (a typo)', run: () => runProcess(process.execPath, [CLI, 'lod'], env), code: 2 },
      { name: 'node -e 0', run: () => runProcess(process.execPath, ['-e', '0'], env) },
    ];
    if (!args.includes('--skip-tsx')) {
      cases.push({
        name: 'benchsight counts through tsx (before)',
        run: () => runProcess(process.execPath, ['--import', 'tsx', path.join(REPO, 'loader', 'entry', 'cli.ts'), 'counts'], { ...env }),
      });
    }
    const results = new Map<string, Run[]>(cases.map((c) => [c.name, []]));
    // In turns, the first turn thrown away (it builds the CLI if needed, fills the page cache).
    for (let i = 0; i <= runs; i++) {
      for (const c of cases) {
        const r = await c.run();
        if (r.code !== (c.code ?? 0)) throw new Error(`${c.name} exited ${r.code}: ${r.out.slice(0, 500)}`);
        if (i > 0) results.get(c.name)!.push(r);
      }
    }
    const psqlMs = median(results.get(cases[0]!.name)!.map((r) => r.ms));
    report(
      `start-up, whole processes, median of ${runs} turns (slowest in brackets)`,
      cases.map((c) => {
        const rs = results.get(c.name)!;
        const ms = median(rs.map((r) => r.ms));
        const ratio = c === cases[0] ? '' : `, ${(ms / psqlMs).toFixed(1)}x psql`;
        return [
          c.name,
          `${ms.toFixed(0)} ms (${Math.max(...rs.map((r) => r.ms)).toFixed(0)}), peak RSS ${median(rs.map((r) => r.rssMb)).toFixed(0)} MB${ratio}`,
        ];
      }),
    );
  } finally {
    await s.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench startup failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
