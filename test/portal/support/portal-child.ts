/**
 * The Portal in a process of its own, as `npm start` runs it (a local drop bucket whose
 * uploads reach the S3 loader, jobs in the process): for measuring its memory from
 * outside. Prints one JSON line {url, link, pid, s3} when it listens; stops on SIGTERM.
 * Environment: DATABASE_URL (migrated), PORTAL_DIR (the bucket's folder).
 */
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { openPostgres } from '../../../loader/db/postgres';
import { bucketSource, commandExtensions } from '../../../loader/entry/context';
import { startLocalPortal } from '../../../loader/entry/portal-local';
import { eventQueue, LOCAL_CREDENTIALS, startLocalS3 } from '../../../loader/s3/local';
import { handleS3Event } from '../../../loader/s3/process-event';

async function main() {
  const db = openPostgres({ url: process.env.DATABASE_URL! });
  let s3!: S3Client;
  const queue = eventQueue(
    (e) => handleS3Event(e, { db, s3, log: () => undefined }),
    () => undefined,
  );
  const local = await startLocalS3({ dir: path.join(process.env.PORTAL_DIR!, 's3'), bucket: 'benchsight-drop', onEvent: (e) => queue.push(e) });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: local.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const portal = await startLocalPortal({
    db,
    source: bucketSource(s3, 'benchsight-drop'),
    extensions: commandExtensions(db),
    bucket: { s3, name: 'benchsight-drop' },
    roles: { admins: ['ada'], operators: [], viewers: [] },
    ui: process.env.PORTAL_UI === '1',
  });
  process.stdout.write(`${JSON.stringify({ url: portal.url, link: portal.signInLink('ada'), pid: process.pid, s3: local.endpoint })}\n`);
  process.on('SIGTERM', () => {
    void portal
      .stop()
      .then(() => local.stop())
      .then(() => db.close())
      .finally(() => process.exit(0));
  });
}
void main();
