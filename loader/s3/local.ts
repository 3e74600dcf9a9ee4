/**
 * A local drop bucket: s3rver (a fake S3 server, data in a local folder) on 127.0.0.1,
 * whose upload events are handed to the same code as the loader Lambda. s3rver's
 * event keys are not URL-encoded; real S3's are, so they are encoded here the way S3
 * does it, and the loader decodes them the same way in both places.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { S3Event } from 'aws-lambda';

/** s3rver ships no types; it is loaded when a local bucket starts, not when this module is imported. */
type S3rverClass = new (
  opts: Record<string, unknown>,
) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', fn: (e: S3Event) => void): void;
};

export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** How real S3 writes a key in an event: URL-encoded, space as `+`, slashes kept. */
export function encodeS3Key(key: string): string {
  return key
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%20/g, '+'))
    .join('/');
}

export function asRealS3Event(e: S3Event): S3Event {
  return { Records: e.Records.map((r) => ({ ...r, s3: { ...r.s3, object: { ...r.s3.object, key: encodeS3Key(r.s3.object.key) } } })) };
}

export interface LocalS3 {
  endpoint: string;
  port: number;
  bucket: string;
  stop(): Promise<void>;
}

export async function startLocalS3(opts: { dir: string; bucket: string; port?: number; onEvent?: (e: S3Event) => void }): Promise<LocalS3> {
  mkdirSync(opts.dir, { recursive: true });
  // s3rver is CommonJS without types; required only here, when a local bucket starts.
  const S3rver = require('s3rver') as S3rverClass;
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    directory: opts.dir,
    silent: true,
    configureBuckets: [{ name: opts.bucket }],
  });
  if (opts.onEvent) server.on('event', (e) => opts.onEvent!(asRealS3Event(e)));
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    bucket: opts.bucket,
    stop: () => server.close(),
  };
}

/** Hands events to `handle` one at a time, in arrival order; a failure is logged, not lost. */
export function eventQueue(handle: (e: S3Event) => Promise<unknown>, log: (line: string) => void) {
  let chain: Promise<unknown> = Promise.resolve();
  let pending = 0;
  return {
    push(e: S3Event) {
      pending++;
      chain = chain
        .then(() => handle(e))
        .catch((err: unknown) => log(`loader: ${(err as Error).message}`))
        .finally(() => pending--);
    },
    /** Resolves when every event received so far has been handled. */
    async idle() {
      while (pending > 0) await chain;
    },
  };
}
