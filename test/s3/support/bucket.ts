/**
 * What the S3 loader tests share: a real local drop bucket (s3rver) whose upload events
 * are kept for the test to deliver, the loader's dependencies against it, and a slow
 * door in front of it (a proxy that hands out object bodies a little at a time), so a
 * test can act while a loader is in the middle of reading a file.
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, startLocalS3, type LocalS3 } from '../../../loader/s3/local';
import type { LoaderDeps, S3EventLike } from '../../../loader/s3/process-event';
import { slackNotifier } from '../../../loader/s3/notify';
import type { Database } from '../../../loader/db/database';
import { folderSource, load } from '../../../loader/engine';
import { folderWith, miniLeagueFiles } from '../../support/fixtures';

export const BUCKET = 'benchsight-drop';

export interface TestBucket {
  srv: LocalS3;
  dir: string;
  s3: S3Client;
  events: S3EventLike[];
  /** Uploads and returns the upload's event (as real S3 sends it: key URL-encoded). */
  put(key: string, body: string | Buffer): Promise<S3EventLike>;
  keys(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: LOCAL_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
}

export async function testBucket(): Promise<TestBucket> {
  const events: S3EventLike[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-s3-'));
  const srv = await startLocalS3({ dir: path.join(dir, 'bucket'), bucket: BUCKET, onEvent: (e) => events.push(e) });
  const s3 = s3Client(srv.endpoint);
  return {
    srv,
    dir,
    s3,
    events,
    async put(key, body) {
      const before = events.length;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      for (let i = 0; i < 200 && !events.slice(before).some((e) => decodeURIComponent(e.Records![0]!.s3.object.key.replace(/\+/g, ' ')) === key); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const e = events.slice(before).find((x) => decodeURIComponent(x.Records![0]!.s3.object.key.replace(/\+/g, ' ')) === key);
      if (!e) throw new Error(`no event for ${key}`);
      return e;
    },
    async keys(prefix) {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (r.Contents ?? []).map((o) => o.Key!).sort();
    },
    stop: () => srv.stop(),
  };
}

/** The loader's dependencies: the test's database, the bucket, Slack at `slackUrl`. */
export function loaderDeps(db: Database, s3: S3Client, slackUrl?: string, more: Partial<LoaderDeps> = {}): LoaderDeps {
  return {
    db,
    s3,
    notifier: slackUrl ? slackNotifier({ token: 'xoxb-test-token', channel: 'C0LOADS', apiUrl: slackUrl }) : undefined,
    log: () => undefined,
    ...more,
  };
}

/**
 * A proxy in front of the S3 server that sends the body of every GET of an object
 * (not a listing) `bytesPerTick` bytes every `tickMs`: a slow network between a loader
 * and its bucket.
 */
export async function slowProxy(target: string, opts: { bytesPerTick: number; tickMs: number }) {
  const to = new URL(target);
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      const slow = req.method === 'GET' && !/[?&](list-type|prefix|delimiter)=/.test(req.url ?? '') && (req.url ?? '').split('?')[0]!.split('/').length > 2;
      if (!slow) return void r.pipe(res);
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const all = Buffer.concat(chunks);
        let at = 0;
        const tick = () => {
          if (res.destroyed) return;
          if (at >= all.length) return void res.end();
          res.write(all.subarray(at, at + opts.bytesPerTick));
          at += opts.bytesPerTick;
          setTimeout(tick, opts.tickMs);
        };
        tick();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The mini league's teams, players and games, for facts to point to (else they are orphans). */
export async function loadMiniDims(db: Database): Promise<void> {
  const f = miniLeagueFiles();
  const dims = ['dim_team', 'dim_player', 'dim_schedule'];
  const r = await load(db, {
    scope: { kind: 'tables', tables: dims },
    source: folderSource(folderWith(Object.fromEntries(dims.map((t) => [`${t}.csv`, f[`${t}.csv`]!])))),
    initiatedBy: 'test',
  });
  if (r.status !== 'succeeded') throw new Error(`the mini league's dims did not load: ${r.error?.message}`);
}

/** Rows of a query on the test database. */
export function rowsOf(db: Database) {
  return async (sql: string, p: unknown[] = []) => (await db.query<Record<string, unknown>>(sql, p)).rows;
}

/** Waits until `probe` returns something truthy (polling), or fails naming what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
