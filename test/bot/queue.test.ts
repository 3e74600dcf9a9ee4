/**
 * Slack on AWS: the bot puts a slow command on the job queue and wakes the worker; the
 * worker runs it and answers at the response_url. Real database, real queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../loader/engine';
import { runWorker } from '../../loader/worker/run-worker';
import { createLambdaHandler, type LambdaEvent, type LambdaHandler } from '../../bot/lambda';
import { queueDispatcher } from '../../bot/queue-dispatcher';
import { commandJobHandler, COMMAND_JOB } from '../../bot/worker-jobs';
import { slackClient } from '../../bot/report';
import { freshDatabase, type TestDatabase } from '../support/database';
import {
  MockSlackApi,
  OPERATOR,
  ResponseCapture,
  isFinal,
  leagueFolder,
  readable,
  signedHeaders,
  slashBody,
  testConfig,
  warehouseCounts,
} from './support/slack';

let t: TestDatabase;
let capture: ResponseCapture;
let api: MockSlackApi;
let handler: LambdaHandler;
const woken: number[] = [];

const event = (body: string) =>
  ({
    version: '2.0',
    rawPath: '/',
    headers: signedHeaders(body),
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/', sourceIp: '127.0.0.1' } },
  }) as unknown as LambdaEvent;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  capture = await new ResponseCapture().start();
  api = await new MockSlackApi().start();
  handler = createLambdaHandler({
    config: testConfig({ slackApiUrl: api.url }),
    db: t.db,
    dispatcher: queueDispatcher(t.db, async (jobId) => void woken.push(jobId)),
  });
});
afterAll(async () => {
  await capture?.stop();
  await api?.stop();
  await t?.drop();
});

describe('queued Slack commands', () => {
  it('the ack names the queued job; the worker runs it and answers at the response_url', async () => {
    const url = capture.url();
    const body = slashBody({ text: 'load table dim_team upsert', userId: OPERATOR, responseUrl: url });
    const res = await handler(event(body), {});
    expect(res.statusCode).toBe(200);
    const ack = JSON.parse(res.body).text as string;
    const jobId = Number(/job (\d+)$/.exec(ack)?.[1]);
    expect(ack).toMatch(/^queued load of table dim_team \(upsert\), job \d+$/);
    expect(woken).toEqual([jobId]);
    const job = await t.db.query<{ operation: string; status: string; requested_by: string }>(
      'SELECT operation, status, requested_by FROM etl_queue WHERE id = $1',
      [jobId],
    );
    expect(job.rows).toEqual([{ operation: COMMAND_JOB, status: 'pending', requested_by: OPERATOR }]);
    expect((await warehouseCounts(t.db)).dim_team).toBe(0);

    const summary = await runWorker(t.db, {
      until: 'empty',
      handlers: {
        [COMMAND_JOB]: commandJobHandler({ source: async () => folderSource(leagueFolder()), client: slackClient('xoxb-test', { slackApiUrl: api.url }) }),
      },
    });
    expect(summary.outcomes.map((o) => [o.job.id, o.status])).toEqual([[jobId, 'succeeded']]);
    const done = await capture.waitFor(url, isFinal);
    expect(readable(done.body)).toMatch(/dim_team\s+upsert\s+2\s+2/);
    expect((await warehouseCounts(t.db)).dim_team).toBe(2);
  });

  it('the same command asked twice while it waits joins the pending job; a different one does not', async () => {
    const ask = async (text: string) => {
      const body = slashBody({ text, userId: OPERATOR, responseUrl: capture.url() });
      return Number(/job (\d+)$/.exec(JSON.parse((await handler(event(body), {})).body).text)?.[1]);
    };
    const a = await ask('load table dim_player upsert');
    const b = await ask('load table dim_player upsert');
    const c = await ask('load table dim_team upsert');
    const pending = await t.db.query<{ id: string }>("SELECT id FROM etl_queue WHERE status = 'pending' ORDER BY id");
    expect(pending.rows.map((r) => Number(r.id))).toEqual([a, c].sort((x, y) => x - y));
    expect(b).toBe(a);
  });
});
