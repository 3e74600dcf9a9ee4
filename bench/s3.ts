/**
 * `npm run bench s3`: the drop bucket, on a local S3 (s3rver) and the real PostgreSQL.
 *   1. a ~400 MB fact_events_player.csv loaded through the bundled loader Lambda
 *      (dist/loader/index.js, run in its own process): time and peak RSS;
 *   2. drop-to-loaded latency for one game's files (a batch: 9 fact files + manifest),
 *      from the first upload to the committed load, median of N drops.
 * Options: --games N (363 → ~1M rows, ~400 MB), --runs N (5), --skip-big.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createReadStream, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildLambdas } from '../infra/build';
import { ENGINE_NODE_OPTIONS } from '../infra/service-function';
import { folderSource, load } from '../loader/engine';
import { generateExport } from '../loader/generate';
import { dropFiles } from '../loader/s3/drop';
import { eventQueue, LOCAL_CREDENTIALS, startLocalS3 } from '../loader/s3/local';
import { handleS3Event, type S3EventLike } from '../loader/s3/process-event';
import { generatedGames, loadParents, median, report, scratchDatabase } from './support';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const BUCKET = 'benchsight-drop';

async function bigFile(games: number): Promise<void> {
  const dir = await generatedGames(games);
  const file = path.join(dir, 'fact_events_player.csv');
  const s = await scratchDatabase('bench_s3_big');
  const events: S3EventLike[] = [];
  const s3srv = await startLocalS3({ dir: mkdtempSync(path.join(tmpdir(), 'bs-bench-s3-')), bucket: BUCKET, onEvent: (e) => events.push(e) });
  try {
    const step = (what: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${what}\n`);
    step('loading the parents (dims, fact_events)');
    await loadParents(s.db, dir);
    step('uploading the file');
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: s3srv.endpoint,
      forcePathStyle: true,
      credentials: LOCAL_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const size = statSync(file).size;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'replace/fact_events_player.csv', Body: createReadStream(file), ContentLength: size }));
    while (!events.length) await new Promise((r) => setTimeout(r, 20));
    step('building and running the loader Lambda');
    const out = mkdtempSync(path.join(tmpdir(), 'bs-bench-dist-'));
    await buildLambdas(['loader'], { outDir: out });
    const script = `
      const { handler } = require(${JSON.stringify(path.join(out, 'loader', 'index.js'))});
      const t0 = Date.now();
      const peak = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
      setInterval(() => {
        const m = process.memoryUsage();
        for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], Math.round(m[k] / 1048576));
      }, 100).unref();
      handler(JSON.parse(process.argv[1])).then((r) => {
        console.log(JSON.stringify({ ms: Date.now() - t0, maxRssMb: process.resourceUsage().maxRSS / 1024, peak, outcomes: r.outcomes }));
        process.exit(0);
      }, (e) => { console.error(e.message); process.exit(1); });`;
    // Asynchronously: the local S3 serving the object runs in this process.
    const { stdout: res } = await promisify(execFile)(process.execPath, ['-e', script, JSON.stringify(events[0])], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env: {
        ...process.env,
        DATABASE_URL: s.url,
        AWS_ENDPOINT_URL_S3: s3srv.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // (as the stack runs it: infra/service-function.ts)
        NODE_OPTIONS: process.env.BS_LAMBDA_NODE_OPTIONS ?? ENGINE_NODE_OPTIONS,
      },
    });
    const r = JSON.parse(res.trim().split('\n').pop()!) as { ms: number; maxRssMb: number; peak: Record<string, number>; outcomes: { status: string }[] };
    const rows = Number((await s.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events_player')).rows[0]!.n);
    report(`1. a ${(size / 1e6).toFixed(0)} MB fact_events_player.csv through the bundled loader Lambda (own process)`, [
      ['outcome', `${r.outcomes[0]?.status}, ${rows.toLocaleString('en-US')} rows in the table`],
      ['time', `${(r.ms / 1000).toFixed(1)} s (${(size / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s)`],
      ['peak RSS', `${r.maxRssMb.toFixed(0)} MB`],
      [
        'peaks of the heap (MB, sampled every 100 ms)',
        Object.entries(r.peak)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ],
    ]);
  } finally {
    await s3srv.stop();
    await s.drop();
  }
}

async function latency(runs: number): Promise<void> {
  const s = await scratchDatabase('bench_s3_latency');
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-bench-game-'));
  const g = await generateExport({ games: runs, outDir: dir, seed: 3, firstGameId: 80001 });
  const dims = await load(s.db, { scope: { kind: 'category', category: 'dims' }, operation: 'replace', source: folderSource(dir), initiatedBy: 'bench' });
  if (dims.status !== 'succeeded') throw new Error(JSON.stringify(dims.error));
  const s3 = () =>
    new S3Client({
      region: 'us-east-1',
      endpoint: s3srv.endpoint,
      forcePathStyle: true,
      credentials: LOCAL_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  const queue = eventQueue(
    (e) => handleS3Event(e, { db: s.db, s3: s3() }),
    (l) => process.stderr.write(`${l}\n`),
  );
  const s3srv = await startLocalS3({ dir: mkdtempSync(path.join(tmpdir(), 'bs-bench-s3-')), bucket: BUCKET, onEvent: (e) => queue.push(e) });
  try {
    const times: number[] = [];
    let bytes = 0;
    for (const gameId of g.gameIds) {
      // One game's export (same league and seed, so its players and game are in the dims).
      const one = await generateExport({ games: 1, outDir: mkdtempSync(path.join(tmpdir(), 'bs-bench-one-')), seed: 3, firstGameId: gameId });
      const facts = one.files.filter((f) => f.table.startsWith('fact_'));
      bytes = facts.reduce((n, f) => n + f.bytes, 0);
      const t0 = Date.now();
      await dropFiles(s3(), { files: facts.map((f) => f.path), bucket: BUCKET, batch: `game-${gameId}`, operation: 'replace', gameId });
      for (;;) {
        const r = await s.db.query<{ status: string }>("SELECT status FROM load_history WHERE kind = 'request' AND source = $1", [
          `s3://${BUCKET}/batches/game-${gameId}/`,
        ]);
        if (r.rows[0] && r.rows[0].status !== 'started') {
          if (r.rows[0].status !== 'succeeded') throw new Error(`batch for game ${gameId} ${r.rows[0].status}`);
          break;
        }
        await new Promise((res) => setTimeout(res, 5));
      }
      times.push(Date.now() - t0);
    }
    report(`2. drop-to-loaded latency: one game's 9 fact files (${(bytes / 1e6).toFixed(1)} MB) uploaded as a batch, until the load committed`, [
      ['median', `${median(times)} ms`],
      ['all runs', times.map((t) => `${t} ms`).join(', ')],
    ]);
  } finally {
    await queue.idle();
    await s3srv.stop();
    await s.drop();
  }
}

async function main(): Promise<void> {
  if (!args.includes('--skip-big')) await bigFile(opt('games', 363));
  await latency(opt('runs', 5));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
