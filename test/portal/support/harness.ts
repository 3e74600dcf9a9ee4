/**
 * What the Portal tests share: the Portal as `npm start` runs it (loader/entry/portal-local.ts)
 * on a fresh database, with a real local drop bucket (s3rver) whose upload events go to
 * the S3 loader's code, seeded with the mini league's exports (loaded, and the latest
 * exports that commands load from); and HTTP clients signed in as a person of a role.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketSource, commandExtensions, trackerIngest } from '../../../loader/entry/context';
import { startLocalPortal, type LocalPortal } from '../../../loader/entry/portal-local';
import { eventQueue, startLocalS3, type LocalS3 } from '../../../loader/s3/local';
import { handleS3Event } from '../../../loader/s3/process-event';
import type { PortalRoles } from '../../../portal/server/config';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { miniLeagueFiles } from '../../support/fixtures';
import { s3Client } from '../../s3/support/bucket';

export const BUCKET = 'benchsight-drop';
export const ROLES: PortalRoles = { admins: ['ada'], operators: ['otto'], viewers: ['vera'] };

export interface Harness {
  tdb: TestDatabase;
  s3: S3Client;
  local: LocalS3;
  portal: LocalPortal;
  /** Resolves when the loader has handled every upload event so far. */
  loaderIdle(): Promise<void>;
  put(key: string, body: string | Buffer): Promise<void>;
  signIn(user: string): Promise<Client>;
  stop(): Promise<void>;
}

export interface Client {
  csrf: string;
  cookie: string;
  user: { id: string; role: string | null; name: string };
  fetch(p: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  json<T = any>(p: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; body: T; headers: Headers }>;
}

export async function startHarness(o: { roles?: PortalRoles; ui?: boolean; seed?: boolean } = {}): Promise<Harness> {
  const tdb = await freshDatabase({ migrated: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-portal-'));
  let s3!: S3Client;
  const queue = eventQueue(
    (e) => handleS3Event(e, { db: tdb.db, s3, ingestTracker: trackerIngest(tdb.db), log: () => undefined }),
    () => undefined,
  );
  const local = await startLocalS3({ dir: path.join(dir, 's3'), bucket: BUCKET, onEvent: (e) => queue.push(e) });
  s3 = s3Client(local.endpoint);
  const put = async (key: string, body: string | Buffer) => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  };
  if (o.seed !== false) {
    // One batch, so the dims load before the facts that point to them.
    const files = miniLeagueFiles();
    for (const [name, body] of Object.entries(files)) await put(`batches/seed/${name}`, body);
    await put('batches/seed/_manifest.json', JSON.stringify({ files: Object.keys(files), operation: 'upsert' }));
    await waitIdle(queue);
  }
  const portal = await startLocalPortal({
    db: tdb.db,
    source: bucketSource(s3, BUCKET),
    extensions: commandExtensions(tdb.db),
    bucket: { s3, name: BUCKET },
    roles: o.roles ?? ROLES,
    ui: o.ui ?? false,
    log: process.env.PORTAL_TEST_LOG ? (l) => console.error(l) : undefined,
  });
  return {
    tdb,
    s3,
    local,
    portal,
    loaderIdle: () => waitIdle(queue),
    put,
    signIn: (user) => signIn(portal, user),
    async stop() {
      await portal.stop();
      await waitIdle(queue);
      await local.stop();
      await tdb.drop();
    },
  };
}

async function waitIdle(queue: ReturnType<typeof eventQueue>): Promise<void> {
  // s3rver emits its event after answering the upload: give it a moment to arrive.
  await new Promise((r) => setTimeout(r, 100));
  await queue.idle();
}

export async function signIn(portal: { url: string; signInLink(user?: string): string }, user: string): Promise<Client> {
  const res = await fetch(portal.signInLink(user), { redirect: 'manual' });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const s = (await (await fetch(`${portal.url}/api/session`, { headers: { cookie } })).json()) as { csrf: string; user: Client['user'] };
  const base = portal.url;
  const doFetch = (p: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cookie', cookie);
    if (init.method && init.method !== 'GET' && !headers.has('x-csrf-token')) headers.set('x-csrf-token', s.csrf);
    let bodyInit = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      bodyInit = JSON.stringify(init.json);
    }
    return fetch(`${base}${p}`, { ...init, headers, body: bodyInit, ...(bodyInit && typeof bodyInit !== 'string' ? { duplex: 'half' } : {}) } as RequestInit);
  };
  return {
    csrf: s.csrf,
    cookie,
    user: s.user,
    fetch: doFetch,
    async json(p, init) {
      const r = await doFetch(p, init);
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
    },
  };
}

/** Polls `probe` until it returns something, or fails naming what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for a job to end and returns its view. */
export async function jobEnd(client: Client, id: number): Promise<any> {
  return until(`job ${id}`, async () => {
    const r = await client.json(`/api/jobs/${id}`);
    return ['succeeded', 'partial', 'failed', 'cancelled', 'refused'].includes(r.body.state) ? r.body : null;
  });
}

/** Waits for an upload's load to end (loaded, failed, skipped) and returns its view. */
export async function uploadEnd(client: Client, id: number): Promise<any> {
  return until(`upload ${id}`, async () => {
    const r = await client.json(`/api/uploads/${id}`);
    return ['loaded', 'failed', 'skipped'].includes(r.body.state) ? r.body : null;
  });
}

/** A multipart body: fields first, then the files. */
export function form(fields: Record<string, string>, files: { name: string; body: string | Buffer; field?: string }[]): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const file of files) f.append(file.field ?? 'file', new Blob([file.body], { type: 'text/csv' }), file.name);
  return f;
}
