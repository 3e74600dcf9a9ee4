/**
 * A file being read: opened, its header read first, its rows held (backpressure) until
 * the table they go to is ready. The next file of a request is opened while the one
 * before COPYs. A cancelled request never waits for a source that stalls.
 */
import { pipeline } from 'node:stream/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { Cancelled } from '../db/database';
import { CsvRecords } from './csv-records';
import { report } from './progress';
import type { LoadRequest, SourceFile } from './request';

const PROGRESS_EVERY_MS = 500;

export interface OpenFile {
  records: CsvRecords;
  input: Readable;
  /** COPY's input: the file's rows, once released. */
  body: PassThrough;
  /** The whole way from the file to `body`: settles when the file is read (or fails). */
  reading: Promise<void>;
  startedAt: number;
}

/** Opens a file and reads up to its header. */
export async function openFile(req: LoadRequest, table: string, file: SourceFile): Promise<OpenFile> {
  const startedAt = Date.now();
  const records = new CsvRecords(file.name);
  const input = await file.open();
  let lastReport = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _e, done) {
      const now = Date.now();
      if (now - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = now;
        report(req, { table, phase: 'reading', rows: records.rows, bytes: records.bytes, totalBytes: file.size, elapsedMs: now - startedAt });
      }
      done(null, chunk);
    },
  });
  // One pipeline from the file to COPY's input. The header comes out first; the rows
  // wait (backpressure) until the stage table that fits the header exists.
  const body = new PassThrough({ highWaterMark: 1 << 16 });
  const reading = pipeline(input, records, progress, body);
  reading.catch(() => undefined);
  return { records, input, body, reading, startedAt };
}

/** Stops reading a file that will not be loaded (the request failed first). */
export async function closeFile(opened: Promise<OpenFile> | undefined, signal?: AbortSignal): Promise<void> {
  const o = await orCancelled(opened ?? Promise.resolve(undefined), signal).catch(() => undefined);
  if (!o) return;
  o.body.destroy();
  o.input.destroy();
  await orCancelled(o.reading, signal).catch(() => undefined);
}

/** Runs `fn` on an open file; if it throws, the file is closed before the error goes on. */
export async function whileOpen<T>(o: OpenFile, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    o.body.destroy();
    o.input.destroy();
    await o.reading.catch(() => undefined);
    throw err;
  }
}

/**
 * `p`, or a Cancelled as soon as `signal` aborts: a cancelled request does not wait for
 * a source that stalls (a slow network, a pipe nobody writes to).
 */
export function orCancelled<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const on = () => reject(new Cancelled());
    if (signal.aborted) return on();
    signal.addEventListener('abort', on, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', on);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', on);
        reject(e);
      },
    );
  });
}
