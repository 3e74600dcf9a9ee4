/**
 * `npm run bench profile`: where the time of one `load all replace` of the real export
 * goes, statement by statement (the time each took, and the time the engine spent
 * before sending it: reading files, the commit). Median of N loads after one warm-up.
 * Options: --runs N (8), --min MS (0.8: shorter lines are summed, not printed), --scale N
 * (the real export ×N, bench/scaled-export.ts, instead of ×1).
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Database, Queryable } from '../loader/db/database';
import { folderSource, load } from '../loader/engine';
import { scaledExport } from './scaled-export';
import { median, scratchDatabase } from './support';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const REAL = path.resolve(__dirname, '../../shared/data/benchsight-2025-12-29/csv');

interface Step {
  sql: string;
  before: number;
  ms: number;
}

/** The database, timing every statement sent through it (and through its transactions). */
function timing(db: Database, steps: Step[], clock: { last: number }): Database {
  const wrap = <Q extends Queryable>(q: Q): Q =>
    new Proxy(q, {
      get(target, p) {
        const v = Reflect.get(target, p) as unknown;
        if (p === 'query' || p === 'copyFrom') {
          return async (sql: string, arg: unknown) => {
            const t0 = performance.now();
            const before = t0 - clock.last;
            try {
              return await (v as (a: string, b: unknown) => Promise<unknown>).call(target, sql, arg);
            } finally {
              clock.last = performance.now();
              steps.push({ sql: sql.replace(/\s+/g, ' ').slice(0, 70), before, ms: clock.last - t0 });
            }
          };
        }
        if (p === 'transaction') return (fn: (tx: Queryable) => Promise<unknown>) => (v as Database['transaction']).call(target, (tx) => fn(wrap(tx)));
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return wrap(db);
}

async function main(): Promise<void> {
  if (!existsSync(REAL)) {
    process.stdout.write(`[skip] the real export is not at ${REAL}\n`);
    return;
  }
  const runs = opt('runs', 8);
  const min = opt('min', 0.8);
  const scale = opt('scale', 1);
  const dir = scale === 1 ? REAL : scaledExport(scale, REAL);
  const s = await scratchDatabase('bench_profile');
  try {
    const all: Step[][] = [];
    const totals: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const steps: Step[] = [];
      const clock = { last: performance.now() };
      const t0 = clock.last;
      const r = await load(timing(s.db, steps, clock), { scope: { kind: 'all' }, operation: 'replace', source: folderSource(dir), initiatedBy: 'bench' });
      // (partial: the real export's own data-quality ERRORs, repeated at scale)
      if (r.status !== 'succeeded' && r.status !== 'partial') throw new Error(JSON.stringify(r.error));
      steps.push({ sql: '(the end of the request)', before: performance.now() - clock.last, ms: 0 });
      if (i > 0) {
        all.push(steps);
        totals.push(performance.now() - t0);
      }
    }
    process.stdout.write(`load all replace of the real export${scale === 1 ? '' : ` ×${scale}`}: median ${median(totals).toFixed(0)} ms over ${runs} loads\n`);
    process.stdout.write('  before ms  took ms  statement\n');
    let small = 0;
    let before = 0;
    let took = 0;
    for (let j = 0; j < all[0]!.length; j++) {
      const b = median(all.map((x) => x[j]?.before ?? 0));
      const m = median(all.map((x) => x[j]?.ms ?? 0));
      before += b;
      took += m;
      if (b < min && m < min) small += b + m;
      else process.stdout.write(`  ${b.toFixed(1).padStart(9)}  ${m.toFixed(1).padStart(7)}  ${all[0]![j]!.sql}\n`);
    }
    process.stdout.write(`  (${small.toFixed(0)} ms in shorter steps; in all ${took.toFixed(0)} ms in statements, ${before.toFixed(0)} ms between them)\n`);
  } finally {
    await s.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
