/**
 * `npm run bench scale [-- --factors 20,100] [--runs N] [--skip-start] [--skip-reader]`:
 * the product at scale, as a person runs it — whole processes of the `benchsight`
 * command, each beside PostgreSQL's own tool measured in the same run:
 *
 * 1. start-up: `benchsight counts` against `psql -c` of the same counts (time and peak RSS
 *    of the process, median of N);
 * 2. the real export ×N (`scaled-export.ts`): `benchsight load all replace --yes` against
 *    psql `\copy` of the same files into all-text tables (wall time, psql started and
 *    connected in both), with the command's peak RSS;
 *    Beside them, the floor of anything that loads these tables: psql `\copy` of the rows
 *    as the engine stored them (typed, normalized, without the rejected ones) straight
 *    into the typed, indexed warehouse tables, TRUNCATEd in the same transaction — no
 *    checks, rejects, history, quality rules, and readers locked out; and that floor built
 *    the way the engine builds a table (COPY FREEZE, the indexes dropped before and built
 *    after): what psql alone does with the engine's own tricks; then `load table
 *    fact_events_player upsert` of the same file into the table holding its rows (the
 *    staged way, every row unchanged: time and peak RSS) beside psql `\copy` of the file;
 * 3. a dashboard's reader during the ×N replace: `SELECT count(*) FROM fact_events` in a
 *    loop on its own connection, every query timed — how long a reader waits on a load
 *    (a replace of its own after the timed ones: the reader's queries take CPU from it).
 *
 * Peak RSS is `/usr/bin/time`'s maximum resident set size of the command's process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { scaledExport, REAL_CSV } from './scaled-export';
import { csvFiles, fileMb, median, psqlRunner, type Run, report, runProcess, scratchDatabase, textTablesSql } from './support';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const REPO = path.resolve(__dirname, '..');
const CLI = path.join(REPO, 'bin', 'benchsight.js');
const TABLES_COUNTED = 'SELECT (SELECT count(*) FROM dim_player) + (SELECT count(*) FROM fact_events) + (SELECT count(*) FROM fact_events_player) AS n';

/**
 * A load committed: exit 0 (succeeded, nothing to do) or 3 (partial: the real export's own
 * data-quality ERRORs, a goal count that differs from the official score, make every load
 * of it partial; README, "Outcomes").
 */
const committed = (code: number | null) => code === 0 || code === 3;

/** The command as a person runs it (`npx benchsight` runs the bin, its shebang's Node options included). */
function benchsight(url: string, argv: string[]): Promise<Run> {
  return runProcess(CLI, argv, { ...process.env, DATABASE_URL: url, NO_COLOR: '1' });
}

async function startup(url: string, runs: number): Promise<void> {
  const cli: Run[] = [];
  const psql: Run[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const c = await benchsight(url, ['counts']);
    if (c.code !== 0) throw new Error(`benchsight counts failed: ${c.out.slice(0, 500)}`);
    const p = await runProcess('psql', ['-X', '-q', '-At', url, '-c', TABLES_COUNTED], process.env);
    if (p.code !== 0) throw new Error(`psql failed: ${p.out.slice(0, 500)}`);
    if (i > 0) {
      cli.push(c);
      psql.push(p);
    }
  }
  const c = median(cli.map((r) => r.ms));
  const p = median(psql.map((r) => r.ms));
  report(`1. start-up: the whole process, median of ${runs}`, [
    ['benchsight counts', `${c.toFixed(0)} ms, peak RSS ${median(cli.map((r) => r.rssMb)).toFixed(0)} MB`],
    ['psql -c (three counts)', `${p.toFixed(0)} ms, peak RSS ${median(psql.map((r) => r.rssMb)).toFixed(0)} MB`],
    ['ratio', `${(c / p).toFixed(1)}x`],
  ]);
}

/**
 * A reader's loop on its own connection while `during` runs: each query's time, and how
 * many times it waited more than 100 ms for a lock (its lock_timeout: such a query fails
 * with 55P03 and is counted, then the loop goes on). A query's time also holds its own
 * work on a machine the load keeps busy; the lock count is the wait on the load alone.
 */
async function readerLoop<T>(url: string, during: () => Promise<T>): Promise<{ value: T; waits: number[]; lockTimeouts: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("SET lock_timeout = '100ms'");
  const waits: number[] = [];
  let lockTimeouts = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        await client.query('SELECT count(*) FROM fact_events');
      } catch (err) {
        if ((err as { code?: string }).code !== '55P03') throw err;
        lockTimeouts++;
      }
      waits.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const value = await during();
    return { value, waits, lockTimeouts };
  } finally {
    stop = true;
    await loop;
    await client.end();
  }
}

async function atScale(factor: number, runs: number, withReader: boolean): Promise<void> {
  const dir = scaledExport(factor);
  const dirs: string[] = [];
  const mb = csvFiles(dir).reduce((n, f) => n + fileMb(path.join(dir, f)), 0);
  const s = await scratchDatabase(`bench_scale_${factor}`);
  const psql = psqlRunner(s.url);
  try {
    await s.db.query('CREATE SCHEMA raw');
    await s.db.query(textTablesSql(dir, 'raw'));
    const copyScript = csvFiles(dir)
      .map((f) => `TRUNCATE raw.${f.replace('.csv', '')};\n\\copy raw.${f.replace('.csv', '')} FROM '${path.join(dir, f)}' CSV HEADER`)
      .join('\n');
    const checkpoint = () => s.db.query('CHECKPOINT').catch(() => undefined);
    // the first load fills the tables: every timed replace replaces a full warehouse, as a reload does
    const first = await benchsight(s.url, ['load', 'all', 'replace', '--from', dir, '--yes']);
    if (!committed(first.code)) throw new Error(`the first load failed: ${first.out.slice(-1500)}`);
    // The floor: the stored rows, written out once, COPYed back into the typed tables.
    const tables = csvFiles(dir).map((f) => f.replace('.csv', ''));
    const typed = mkdtempSync(path.join(tmpdir(), 'bs-bench-typed-'));
    dirs.push(typed);
    await psql.run(tables.map((t) => `\\copy public.${t} TO '${path.join(typed, `${t}.csv`)}' CSV HEADER`).join('\n'));
    const floorScript = [
      'BEGIN;',
      `TRUNCATE ${tables.map((t) => `public.${t}`).join(', ')};`,
      ...tables.map((t) => `\\copy public.${t} FROM '${path.join(typed, `${t}.csv`)}' CSV HEADER`),
      'COMMIT;',
    ].join('\n');
    // The floor again, built the engine's way: FREEZE into the tables TRUNCATEd in the
    // transaction, their indexes dropped before and built after (bs_index_statements: the
    // engine's own list of a table's indexes).
    const indexes = (
      await s.db.query<{ t: string; name: string; conname: string | null; definition: string }>(
        'SELECT t, s.index_name AS name, s.conname, s.definition FROM unnest($1::text[]) t, bs_index_statements(t::regclass) s',
        [tables],
      )
    ).rows;
    const fastFloorScript = [
      'BEGIN;',
      `TRUNCATE ${tables.map((t) => `public.${t}`).join(', ')};`,
      ...indexes.map((i) => (i.conname ? `ALTER TABLE public.${i.t} DROP CONSTRAINT ${i.conname};` : `DROP INDEX ${i.name};`)),
      ...tables.map((t) => `\\copy public.${t} FROM '${path.join(typed, `${t}.csv`)}' WITH (FORMAT csv, HEADER true, FREEZE true)`),
      "SET LOCAL maintenance_work_mem = '256MB';",
      ...indexes.map((i) => `${i.definition};`),
      'COMMIT;',
    ].join('\n');
    // The reader's own time, with no load running: what a query costs at this scale.
    const alone: number[] = [];
    if (withReader) {
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      for (let i = 0; i < 20; i++) {
        const t0 = process.hrtime.bigint();
        await c.query('SELECT count(*) FROM fact_events');
        alone.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      await c.end();
    }
    const cli: Run[] = [];
    const psqlMs: number[] = [];
    const floorMs: number[] = [];
    const fastFloorMs: number[] = [];
    let waits: number[] = [];
    let lockTimeouts = 0;
    const measured = async () => benchsight(s.url, ['load', 'all', 'replace', '--from', dir, '--yes']);
    for (let i = 0; i < runs; i++) {
      await checkpoint();
      psqlMs.push((await psql.run(copyScript)).ms);
      await checkpoint();
      floorMs.push((await psql.run(floorScript)).ms);
      await checkpoint();
      fastFloorMs.push((await psql.run(fastFloorScript)).ms);
      await checkpoint();
      const r = await measured();
      if (!committed(r.code)) throw new Error(`load all replace failed: ${r.out.slice(-1500)}`);
      cli.push(r);
    }
    // The reader, in a replace of its own: its queries take CPU from the load, so that
    // replace is not one of the timed ones.
    let withReaderMs: number | undefined;
    if (withReader) {
      await checkpoint();
      const r = await readerLoop(s.url, measured);
      if (!committed(r.value.code)) throw new Error(`load all replace failed: ${r.value.out.slice(-1500)}`);
      ({ waits, lockTimeouts } = r);
      withReaderMs = r.value.ms;
    }
    // The engine's other way, as a person runs it: a staged upsert of the biggest file into
    // the table that holds its rows (every row unchanged), beside psql `\copy` of the file.
    const big = 'fact_events_player';
    const upserts: Run[] = [];
    const bigCopyMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      await checkpoint();
      bigCopyMs.push((await psql.run(`TRUNCATE raw.${big};\n\\copy raw.${big} FROM '${path.join(dir, `${big}.csv`)}' CSV HEADER`)).ms);
      await checkpoint();
      const u = await benchsight(s.url, ['load', 'table', big, 'upsert', '--from', dir]);
      if (!committed(u.code)) throw new Error(`load table ${big} upsert failed: ${u.out.slice(-1500)}`);
      upserts.push(u);
    }
    const c = median(cli.map((r) => r.ms));
    const p = median(psqlMs);
    const f = median(floorMs);
    const ff = median(fastFloorMs);
    const rows: [string, string][] = [
      ['psql \\copy into all-text tables', `${p.toFixed(0)} ms`],
      ['psql \\copy of the stored rows into the typed, indexed tables (the floor)', `${f.toFixed(0)} ms (${(f / p).toFixed(2)}x the text tables)`],
      ['benchsight load all replace --yes', `${c.toFixed(0)} ms, peak RSS ${Math.max(...cli.map((r) => r.rssMb)).toFixed(0)} MB`],
      ['ratio to psql into text tables', `${(c / p).toFixed(2)}x`],
      ['ratio to the floor', `${(c / f).toFixed(2)}x`],
      ["the floor built the engine's way (FREEZE, indexes dropped and built after)", `${ff.toFixed(0)} ms (${(ff / p).toFixed(2)}x the text tables)`],
      ["ratio to the floor built the engine's way", `${(c / ff).toFixed(2)}x`],
      [
        `benchsight load table ${big} upsert (${fileMb(path.join(dir, `${big}.csv`)).toFixed(0)} MB, every row unchanged)`,
        `${median(upserts.map((r) => r.ms)).toFixed(0)} ms, peak RSS ${Math.max(...upserts.map((r) => r.rssMb)).toFixed(0)} MB; psql \\copy of the file into a text table ${median(bigCopyMs).toFixed(0)} ms (${(median(upserts.map((r) => r.ms)) / median(bigCopyMs)).toFixed(2)}x)`,
      ],
    ];
    if (waits.length) {
      const sorted = [...waits].sort((a, b) => a - b);
      rows.push([
        `a reader during another replace (${withReaderMs!.toFixed(0)} ms, not timed above)`,
        `${waits.length} queries: median ${median(waits).toFixed(0)} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(0)} ms, longest ${sorted[sorted.length - 1]!.toFixed(0)} ms, ${waits.filter((w) => w > 100).length} over 100 ms; ${lockTimeouts} waited over 100 ms for a lock`,
      ]);
      rows.push(['the same query with no load running', `median ${median(alone).toFixed(0)} ms, longest ${Math.max(...alone).toFixed(0)} ms`]);
    }
    report(`2. the real export ×${factor} (${mb.toFixed(0)} MB), whole processes, median of ${runs}`, rows);
  } finally {
    psql.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await s.drop();
  }
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/time')) throw new Error('this bench reads peak RSS with /usr/bin/time (Debian package time)');
  const runs = Number(opt('runs', '3'));
  if (!flag('skip-start')) {
    const s = await scratchDatabase('bench_scale_start');
    try {
      await startup(s.url, Number(opt('runs', '5')));
    } finally {
      await s.drop();
    }
  }
  if (!existsSync(REAL_CSV)) {
    process.stdout.write(`\n[skip] the real export is not at ${REAL_CSV}: the scaled loads need it\n`);
    return;
  }
  for (const f of opt('factors', '20,100').split(',').map(Number)) await atScale(f, runs, !flag('skip-reader'));
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
