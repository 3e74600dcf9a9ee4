/**
 * `npm run bench:load`: the load engine measured side by side with PostgreSQL's own COPY.
 *   1. the real export (../shared/data): `load all replace` vs psql `\copy` of the same
 *      12 files into all-text tables, alternating, each from a CHECKPOINT, median of N runs;
 *      psql as run (its start included) and its statements alone (its `\timing`);
 *   2. a generated ~1,000,000-row fact_events_player: upsert (into the empty table: every
 *      row new, COPYed straight in; then again with every row unchanged, through a
 *      staging table) vs a raw COPY of the same file into an all-text table;
 *   3. peak RSS of a load of an ~80 MB and an ~400 MB file, each in its own process.
 *      Each timed step starts from a CHECKPOINT; median of --rounds rounds.
 * Options: --runs N (7), --rounds N (3), --games N (330 → ~1M event-player rows), --skip-real, --skip-big, --skip-rss.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { load, folderSource, filesSource, streamFile, type TableResult } from '../loader/engine';
import { csvFiles, fileMb, generatedGames, loadParents, median, psqlRunner, report, scratchDatabase, textTableSql, textTablesSql, timed } from './support';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const flag = (name: string) => args.includes(`--${name}`);
const REAL = path.resolve(__dirname, '../../shared/data/benchsight-2025-12-29/csv');

async function realDataset(runs: number): Promise<void> {
  if (!existsSync(REAL)) {
    process.stdout.write(`\n[skip] the real export is not at ${REAL}\n`);
    return;
  }
  const s = await scratchDatabase('bench_real');
  const psql = psqlRunner(s.url);
  try {
    await s.db.query('CREATE SCHEMA raw');
    await s.db.query(textTablesSql(REAL, 'raw'));
    const copyScript = csvFiles(REAL)
      .map((f) => `TRUNCATE raw.${f.replace('.csv', '')};\n\\copy raw.${f.replace('.csv', '')} FROM '${path.join(REAL, f)}' CSV HEADER`)
      .join('\n');
    const psqlMs: number[] = [];
    const statementsMs: number[] = [];
    const engineMs: number[] = [];
    // Each timed step starts from a CHECKPOINT (as in 2.): a load arrives on a settled
    // database, not in the wake of the step before (whose dirty pages would make every
    // fsync of the next one, and its commit, pay for them).
    const checkpoint = () => s.db.query('CHECKPOINT').catch(() => undefined);
    for (let i = 0; i < runs + 1; i++) {
      await checkpoint();
      // (psql runs from a helper shell: this process must not fork while it measures,
      // see psqlRunner. psql's own \timing of its statements leaves out starting psql
      // and connecting, which the engine, connected already, does not pay either.)
      const { ms: p, statementsMs: st } = await psql.run(copyScript);
      await checkpoint();
      const e = await timed(() => load(s.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(REAL), initiatedBy: 'bench' }));
      if (e.value.status !== 'succeeded') throw new Error(JSON.stringify(e.value.error));
      if (i > 0) {
        psqlMs.push(p);
        statementsMs.push(st);
        engineMs.push(e.ms);
      }
    }
    const p = median(psqlMs);
    const st = median(statementsMs);
    const e = median(engineMs);
    report(
      `1. real export (12 files, 25,139 rows, ${csvFiles(REAL)
        .reduce((n, f) => n + fileMb(path.join(REAL, f)), 0)
        .toFixed(1)} MB), median of ${runs}`,
      [
        ['psql \\copy into all-text tables', `${p.toFixed(0)} ms (includes starting psql)`],
        ['benchsight load all replace', `${e.toFixed(0)} ms (typed, checked, with history and rejects)`],
        ['ratio engine / psql', `${(e / p).toFixed(2)}x`],
        ["psql's statements alone (its \\timing)", `${st.toFixed(0)} ms: ratio ${(e / st).toFixed(2)}x`],
      ],
    );
  } finally {
    psql.close();
    await s.drop();
  }
}

async function bigUpsert(games: number, rounds: number): Promise<void> {
  const dir = await generatedGames(games);
  const file = path.join(dir, 'fact_events_player.csv');
  const s = await scratchDatabase('bench_big');
  try {
    await loadParents(s.db, dir);
    await s.db.query('CREATE SCHEMA raw');
    await s.db.query(textTableSql(file, 'raw.fep'));
    const client = new pg.Client({ connectionString: s.url });
    await client.connect();
    const rawCopy = async () => {
      await client.query('TRUNCATE raw.fep');
      return timed(async () => {
        const sink = client.query(copyFrom('COPY raw.fep FROM STDIN (FORMAT csv, HEADER true)'));
        await pipeline(createReadStream(file, { highWaterMark: 1 << 16 }), sink);
        return Number(sink.rowCount);
      });
    };
    // The phases of each load go to stderr: read (the file COPYed into the table, or
    // into a staging table), applied (rejects, the operation, indexes), then (the
    // data-quality rules, history, the commit).
    const upsert = () => {
      const t0 = Date.now();
      let last = t0;
      const marks: string[] = [];
      return timed(() =>
        load(s.db, {
          scope: { kind: 'tables', tables: ['fact_events_player'] },
          operation: 'upsert',
          source: folderSource(dir),
          initiatedBy: 'bench',
          onProgress: (p) => {
            if (p.phase === 'reading') return;
            marks.push(`${p.phase === 'applying' ? 'read' : 'applied'} ${Date.now() - last} ms`);
            last = Date.now();
          },
        }),
      ).then((r) => {
        process.stderr.write(`  ${marks.join(', ')}, then ${Date.now() - last} ms\n`);
        return r;
      });
    };
    // Each timed step starts from a checkpoint, so that none pays for the WAL and dirty
    // pages of the one before (a checkpoint in the middle of a step costs it seconds).
    const checkpoint = () => client.query('CHECKPOINT').catch(() => undefined);
    const raws: number[] = [];
    const firsts: number[] = [];
    const agains: number[] = [];
    let rows = 0;
    let t1: TableResult | undefined;
    let t2: TableResult | undefined;
    for (let round = 0; round < rounds; round++) {
      await client.query('TRUNCATE fact_events_player');
      await checkpoint();
      const raw = await rawCopy();
      rows = raw.value;
      await checkpoint();
      const first = await upsert();
      await checkpoint();
      const again = await upsert();
      if (first.value.status !== 'succeeded' || again.value.status !== 'succeeded') throw new Error(JSON.stringify(first.value.error ?? again.value.error));
      t1 = first.value.tables[0]!;
      t2 = again.value.tables[0]!;
      raws.push(raw.ms);
      firsts.push(first.ms);
      agains.push(again.ms);
      process.stderr.write(`round ${round + 1}: raw ${raw.ms.toFixed(0)} ms, new ${first.ms.toFixed(0)} ms, unchanged ${again.ms.toFixed(0)} ms\n`);
    }
    await client.end();
    const raw = median(raws);
    const first = median(firsts);
    const again = median(agains);
    report(
      `2. fact_events_player upsert, ${rows.toLocaleString('en-US')} rows, ${fileMb(file).toFixed(0)} MB (${games} generated games), median of ${rounds} rounds`,
      [
        ['raw COPY into an all-text table', `${raw.toFixed(0)} ms (${Math.round(rows / (raw / 1000)).toLocaleString('en-US')} rows/s)`],
        [
          'upsert into the empty table (every row new)',
          `${first.toFixed(0)} ms (${Math.round(rows / (first / 1000)).toLocaleString('en-US')} rows/s), inserted ${t1!.inserted}, ratio ${(first / raw).toFixed(2)}x`,
        ],
        [
          'upsert again, every row unchanged',
          `${again.toFixed(0)} ms (${Math.round(rows / (again / 1000)).toLocaleString('en-US')} rows/s), unchanged ${t2!.unchanged}, ratio ${(again / raw).toFixed(2)}x`,
        ],
      ],
    );
  } finally {
    await s.drop();
  }
}

/** Loads one file in a child process (this script with --child) and reads its peak RSS. */
async function peakRss(): Promise<void> {
  const rows: [string, string][] = [];
  for (const [label, games] of [
    ['~80 MB', 66],
    ['~400 MB', 330],
  ] as const) {
    const dir = await generatedGames(games);
    const file = path.join(dir, 'fact_events_player.csv');
    const s = await scratchDatabase('bench_rss');
    try {
      await loadParents(s.db, dir);
      const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', s.url, file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { maxRssMb: number; ms: number; rows: number; baselineMb: number };
      rows.push([
        `${label} file (${fileMb(file).toFixed(0)} MB, ${r.rows.toLocaleString('en-US')} rows)`,
        `peak RSS ${r.maxRssMb.toFixed(0)} MB (process at start ${r.baselineMb.toFixed(0)} MB), ${r.ms.toFixed(0)} ms`,
      ]);
    } finally {
      await s.drop();
    }
  }
  report('3. memory: one file loaded through the engine in its own process', rows);
}

async function child(url: string, file: string): Promise<void> {
  const { openPostgres } = await import('../loader/db/postgres');
  const db = openPostgres({ url });
  const baselineMb = process.memoryUsage().rss / 1e6;
  const r = await timed(() =>
    load(db, {
      scope: { kind: 'tables', tables: ['fact_events_player'] },
      operation: 'replace',
      initiatedBy: 'bench',
      source: filesSource([streamFile('fact_events_player', file, () => createReadStream(file, { highWaterMark: 1 << 16 }))]),
    }),
  );
  await db.close();
  if (r.value.status !== 'succeeded') throw new Error(JSON.stringify(r.value.error));
  process.stdout.write(`${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, baselineMb, ms: r.ms, rows: r.value.tables[0]!.rowsInFile })}\n`);
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(args[1]!, args[2]!);
  if (!flag('skip-real')) await realDataset(opt('runs', 7));
  if (!flag('skip-big')) await bigUpsert(opt('games', 330), opt('rounds', 3));
  if (!flag('skip-rss')) await peakRss();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
