/**
 * `benchsight drop` against a real local S3 (s3rver): lib-storage's Upload (a big file
 * in parallel parts, byte for byte), --json, who dropped it kept in the object's
 * metadata and named by the loader's history, a .csv.gz drop that loads, and files that
 * are not there refused before anything is uploaded.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../loader/entry/cli';
import { generateExport } from '../../loader/generate';
import { handleS3Event } from '../../loader/s3/process-event';
import { Capture } from '../support/capture';
import { freshDatabase, type TestDatabase } from '../support/database';
import { BUCKET, loaderDeps, testBucket, type TestBucket } from '../s3/support/bucket';

let t: TestDatabase;
let b: TestBucket;
let exportDir: string;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  b = await testBucket();
  exportDir = mkdtempSync(path.join(tmpdir(), 'bs-drop-'));
  // Nine games: fact_events_player is over 8 MB, one part of lib-storage's Upload.
  await generateExport({ games: 9, outDir: exportDir, seed: 3 });
});
afterAll(async () => {
  await b?.stop();
  await t?.drop();
});

async function drop(...argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const env = {
    DATABASE_URL: t.url,
    DROP_BUCKET: BUCKET,
    AWS_ENDPOINT_URL_S3: b.srv.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    USER: 'dropper',
  };
  const code = await main(['drop', ...argv], { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) }, env);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function body(key: string): Promise<Buffer> {
  const r = await b.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe('benchsight drop', () => {
  it('a file over one part goes up in parts, byte for byte; --json says where', async () => {
    const file = path.join(exportDir, 'fact_events_player.csv');
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
    const r = await drop(file, '--prefix', 'big', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, bucket: BUCKET, keys: ['big/fact_events_player.csv'] });
    expect(md5(await body('big/fact_events_player.csv'))).toBe(md5(bytes));
  });

  it('the loader names who dropped it (the object metadata), and a .csv.gz loads', async () => {
    const gz = path.join(mkdtempSync(path.join(tmpdir(), 'bs-drop-gz-')), 'dim_team.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(path.join(exportDir, 'dim_team.csv'))));
    const before = b.events.length;
    const r = await drop(gz);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`dropped 1 object into s3://${BUCKET}/\n`);
    let event = b.events.slice(before).find((e) => e.Records?.[0]?.s3.object.key === 'dim_team.csv.gz');
    for (let i = 0; !event && i < 200; i++) {
      await new Promise((res) => setTimeout(res, 10));
      event = b.events.slice(before).find((e) => e.Records?.[0]?.s3.object.key === 'dim_team.csv.gz');
    }
    const [outcome] = await handleS3Event(event!, loaderDeps(t.db, b.s3));
    expect(outcome).toMatchObject({ status: 'loaded' });
    const teams = readFileSync(path.join(exportDir, 'dim_team.csv'), 'utf8').trim().split('\n').length - 1;
    expect(Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM dim_team')).rows[0]!.n)).toBe(teams);
    const h = await t.db.query<{ initiated_by: string }>("SELECT initiated_by FROM load_history WHERE kind = 'request' ORDER BY id DESC LIMIT 1");
    expect(h.rows[0]!.initiated_by).toBe('cli:dropper (s3:dim_team.csv.gz)');
  });

  it('a file that is not there, or a folder: said in words, nothing uploaded', async () => {
    const keys = await b.keys('');
    const missing = await drop(path.join(exportDir, 'dim_team.csv'), 'exports/nope.csv');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('benchsight: file not found: exports/nope.csv; nothing was uploaded\n');
    const folder = await drop(exportDir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toMatch(/^benchsight: not a file: .* \(drop the export files themselves, e\.g\. .*fact_events\.csv\); nothing was uploaded\n$/);
    expect(await b.keys('')).toEqual(keys);
  });
});
