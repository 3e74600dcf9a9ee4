/**
 * A 200 MB upload through the Portal, in the Portal's own process as `npm start` runs it:
 * the body is streamed into the drop bucket as it arrives, never held whole — the
 * process's peak memory (VmHWM) stays within the loader's bound, far below the file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/database';
import { signIn } from './support/harness';

const MB = 1024 * 1024;
const SIZE = 200 * MB;
/**
 * What the upload may add to the process's memory: a few multipart parts in flight. Holding
 * the file would add its 200 MB. (The process itself — tsx, s3rver, the AWS SDK, pg —
 * starts at ~160 MB here; the loader's own bound is in bench/README.md.)
 */
const GROWTH_MB = 120;

let tdb: TestDatabase;
let child: ChildProcess;
let info: { url: string; link: string; pid: number; s3: string };

const status = (pid: number, field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const peakMb = (pid: number) => status(pid, 'VmHWM');

beforeAll(async () => {
  tdb = await freshDatabase({ migrated: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-portal-big-'));
  child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support', 'portal-child.ts')], {
    env: { ...process.env, DATABASE_URL: tdb.url, PORTAL_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the Portal process exited (${code})`)));
  });
  info = JSON.parse(first);
});
afterAll(async () => {
  const exited = new Promise((r) => child?.once('exit', r));
  child?.kill('SIGTERM');
  const late = setTimeout(() => child?.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(late);
  await tdb?.drop();
});

it('a 200 MB CSV streams through to the bucket within the memory bound', { timeout: 240_000 }, async () => {
  const client = await signIn({ url: info.url, signInLink: () => info.link }, 'ada');
  const before = status(info.pid, 'VmRSS');
  const boundary = '----benchsight-big-upload';
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="operation"\r\n\r\nappend\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="fact_events.csv"\r\ncontent-type: text/csv\r\n\r\n` +
      // A column the table lacks: once in the bucket, the loader refuses it at the header at once.
      'event_key,game_id,period,event_type,not_a_column\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const line = (i: number) => `EV${String(i).padStart(12, '0')},1001,1,Shot,x\n`;
  let sent = 0;
  let i = 0;
  const peaks: number[] = [];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        controller.enqueue(head);
        sent += head.length;
        return;
      }
      if (sent >= SIZE) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      const lines: string[] = [];
      for (let n = 0; n < 4096; n++) lines.push(line(i++));
      const chunk = Buffer.from(lines.join(''));
      sent += chunk.length;
      if (i % (4096 * 50) === 0) peaks.push(peakMb(info.pid));
      controller.enqueue(chunk);
    },
  });
  const res = await client.fetch('/api/upload/csv', { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  const answer = (await res.json()) as any;
  expect(res.status, JSON.stringify(answer)).toBe(202);
  const peak = peakMb(info.pid);
  const uploaded = answer.upload.files[0];
  expect(uploaded.bytes).toBeGreaterThan(SIZE - head.length);
  // What is in the bucket is the whole file.
  const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true, endpoint: info.s3, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const head_ = await s3.send(new HeadObjectCommand({ Bucket: 'benchsight-drop', Key: uploaded.key }));
  expect(head_.ContentLength).toBe(uploaded.bytes);
  console.log(
    `200 MB upload: the Portal process ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB (while sending: ${peaks.map((p) => p.toFixed(0)).join(', ')} MB)`,
  );
  expect(peak - before).toBeLessThan(GROWTH_MB);
});
