/**
 * A loader that dies in the middle of a load loses nothing: a real loader process
 * (the Lambda handler, against the local S3 server and the real PostgreSQL) is killed
 * while it reads a slow object; a delivery of the event while the dead loader's lease
 * still runs fails (so Lambda retries it, and in the end the dead-letter queue gets it),
 * a delivery after loads the object once, and the dead attempt is recorded abandoned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleS3Event, type S3EventLike } from '../../loader/s3/process-event';
import { LOCAL_CREDENTIALS } from '../../loader/s3/local';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, miniLeague } from '../support/fixtures';
import { loadMiniDims, loaderDeps, rowsOf, s3Client, slowProxy, testBucket, until, type TestBucket } from './support/bucket';

let t: TestDatabase;
let b: TestBucket;
let proxy: Awaited<ReturnType<typeof slowProxy>>;
let q: ReturnType<typeof rowsOf>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  b = await testBucket();
  // About 40 KB a second: a few hundred KB take the loader several seconds to read.
  proxy = await slowProxy(b.srv.endpoint, { bytesPerTick: 4096, tickMs: 100 });
  q = rowsOf(t.db);
  await loadMiniDims(t.db);
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await proxy?.close();
  await b?.stop();
  await t?.drop();
});

const template = miniLeague().events[1]!;
/** `n` events of game `game`: a file of a few hundred KB. */
function bigEvents(game: number, n: number): string {
  return csvFor(
    'fact_events',
    Array.from({ length: n }, (_, i) => ({
      ...template,
      game_id: game,
      event_key: `EV${game}${String(i + 1).padStart(5, '0')}`,
      event_index: `${i + 1}.0`,
      event_detail: 'A long enough detail to make the file a few hundred kilobytes'.repeat(2),
    })),
  );
}

/** The loader Lambda's handler in its own process, reading the bucket through the slow proxy. */
function loaderProcess(event: S3EventLike): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, 'support', 'loader-child.ts'), JSON.stringify(event)], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      PATH: process.env.PATH,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DATABASE_URL: t.url,
      AWS_ENDPOINT_URL_S3: proxy.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      S3_CLAIM_LEASE_SECONDS: '3',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  void exited.then(() => (out ? console.log(`loader process said: ${out.trim().slice(0, 500)}`) : undefined));
  return { child, exited };
}

const requestsFor = (key: string) =>
  q("SELECT id, request_id, status, error_message FROM load_history WHERE kind = 'request' AND warnings->'context'->>'key' = $1 ORDER BY id", [key]);

describe('a loader killed in the middle of a load', () => {
  it('a delivery within its lease fails, one after it loads the object once, and the dead attempt is abandoned', async () => {
    const rows = 2500;
    const event = await b.put('fact_events.csv', bigEvents(1001, rows));
    const { child, exited } = loaderProcess(event);
    // The loader has claimed the object, started its load and is reading the file.
    await until('the loader process to start its load', async () => (await requestsFor('fact_events.csv')).find((r) => r.status === 'started'), 60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    expect(await exited).toBeNull();

    // Lambda retries at once: the dead loader's lease still runs, so this delivery fails
    // (it may not report success for a file that is not loaded).
    const deps = loaderDeps(t.db, b.s3, undefined, { claims: { leaseMs: 3000, waitMs: 0 } });
    await expect(handleS3Event(event, deps)).rejects.toThrow(/fact_events\.csv.*being loaded/);
    expect(await q('SELECT count(*)::int AS n FROM fact_events')).toEqual([{ n: 0 }]);

    // A later retry (waiting out the lease) takes the dead claim over and loads.
    const outcomes = await handleS3Event(event, loaderDeps(t.db, b.s3, undefined, { claims: { leaseMs: 3000, waitMs: 20_000 } }));
    expect(outcomes).toEqual([expect.objectContaining({ status: 'loaded' })]);
    expect(await q('SELECT count(*)::int AS n FROM fact_events')).toEqual([{ n: rows }]);

    const requests = await requestsFor('fact_events.csv');
    expect(requests.map((r) => r.status)).toEqual(['abandoned', 'succeeded']);
    expect(requests[0]!.error_message).toMatch(/stopped before it ended/);
    const deadTables = await q('SELECT status FROM load_history WHERE request_id = $1 AND kind = $2', [requests[0]!.request_id, 'table']);
    expect(deadTables.length).toBeGreaterThan(0);
    expect(deadTables.every((x) => x.status === 'abandoned')).toBe(true);
    expect(await q("SELECT status, attempts FROM s3_objects WHERE key = 'fact_events.csv'")).toEqual([{ status: 'loaded', attempts: 2 }]);

    // Delivered once more: already loaded, nothing runs again.
    expect((await handleS3Event(event, deps))[0]).toMatchObject({ status: 'skipped', message: expect.stringMatching(/already loaded/) });
    expect((await requestsFor('fact_events.csv')).length).toBe(2);
  });

  it('a loader whose lease ran out stops, and the one that took the object over loads it once', async () => {
    const rows = 2500;
    const body = csvFor(
      'fact_shifts',
      Array.from({ length: rows }, (_, i) => ({
        shift_key: `SH1002${String(i + 1).padStart(5, '0')}`,
        game_id: 1002,
        shift_index: `${i + 1}.0`,
        Period: '1.0',
        shift_start_type: 'A long enough start type to make the file bigger'.repeat(3),
      })),
    );
    const event = await b.put('alive/fact_shifts.csv', body);
    const slow = s3Client(proxy.url);
    const first = handleS3Event(event, loaderDeps(t.db, slow, undefined, { claims: { leaseMs: 2000, waitMs: 0 } })).then(
      (o) => ({ ok: true as const, o }),
      (err: Error) => ({ ok: false as const, err }),
    );
    await until('the first loader to start its load', async () => (await requestsFor('alive/fact_shifts.csv')).find((r) => r.status === 'started'), 60_000);
    // It stalls past its lease (as a frozen process would): its claim lapses.
    await q("UPDATE s3_objects SET lease_until = now() - interval '1 second' WHERE key = 'alive/fact_shifts.csv'");
    const second = await handleS3Event(event, loaderDeps(t.db, b.s3, undefined, { claims: { leaseMs: 2000, waitMs: 20_000 } }));
    expect(second).toEqual([expect.objectContaining({ status: 'loaded' })]);
    const r1 = await first;
    expect(r1.ok ? r1.o[0]!.status : 'threw').not.toBe('loaded');
    expect(await q('SELECT count(*)::int AS n FROM fact_shifts')).toEqual([{ n: rows }]);
    const requests = await requestsFor('alive/fact_shifts.csv');
    expect(requests.filter((r) => r.status === 'succeeded')).toHaveLength(1);
    expect(requests.filter((r) => r.status === 'started')).toHaveLength(0);
  });
});
