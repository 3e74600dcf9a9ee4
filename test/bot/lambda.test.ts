/**
 * The bot on Lambda: Bolt's AwsLambdaReceiver returns only when the listener is done, so
 * the listener must hand slow work off. Invoked here with real event shapes (Function
 * URL, API Gateway REST) against a real database.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaHandler, type LambdaEvent, type LambdaHandler } from '../../bot/lambda';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, miniLeague } from '../support/fixtures';
import { slowSource } from '../engine/slow-source';
import {
  MockSlackApi,
  OPERATOR,
  ResponseCapture,
  VIEWER,
  commandRows,
  eventually,
  functionUrlEvent,
  isFinal,
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
const logs: string[] = [];

/** An API Gateway REST (v1) proxy event: header names as sent, body as text. */
function restEvent(body: string, headers: Record<string, string>): APIGatewayProxyEvent {
  const cased = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()), v]));
  return {
    body,
    headers: cased,
    multiValueHeaders: {},
    httpMethod: 'POST',
    isBase64Encoded: false,
    path: '/slack/events',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    resource: '/slack/events',
    requestContext: { identity: { sourceIp: '198.51.100.8' } } as APIGatewayProxyEvent['requestContext'],
  };
}

const invoke = (h: LambdaHandler, event: unknown) => h(event as LambdaEvent, {});

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  capture = await new ResponseCapture().start();
  api = await new MockSlackApi().start();
  const teams = csvFor('dim_team', miniLeague().teams);
  handler = createLambdaHandler({
    config: testConfig({ slackApiUrl: api.url }),
    db: t.db,
    // dim_team arrives 40 bytes every 250 ms: a load of a few seconds.
    source: async () => slowSource('dim_team', teams, { chunkBytes: 40, delayMs: 250 }),
    log: (l) => logs.push(l),
    progressEveryMs: 500,
  });
});
afterAll(async () => {
  await capture?.stop();
  await api?.stop();
  await t?.drop();
});

describe('AwsLambdaReceiver', () => {
  it('returns the ack at once while the load goes on, and the result arrives later', async () => {
    const url = capture.url();
    const body = slashBody({ text: 'load table dim_team upsert', userId: OPERATOR, responseUrl: url });
    const t0 = performance.now();
    const res = await invoke(handler, functionUrlEvent(body, signedHeaders(body)));
    const ackMs = performance.now() - t0;
    const returnedAt = Date.now();

    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).text).toMatch(/^queued load of table dim_team \(upsert\), job \d+$/);
    expect(ackMs).toBeLessThan(1000);
    // The handler has returned; the load has not finished.
    expect(capture.at(url).some(isFinal)).toBe(false);
    expect((await warehouseCounts(t.db)).dim_team).toBe(0);

    const progress = await capture.waitFor(url, (c) => c.body.text.startsWith('still working'));
    expect(progress.body.text).toMatch(/^still working on load of table dim_team \(upsert\): reading dim_team: \d+ rows/);
    const done = await capture.waitFor(url, isFinal);
    expect(done.at - returnedAt).toBeGreaterThan(1000);
    expect(readable(done.body)).toMatch(/dim_team\s+upsert\s+2\s+2/);
    expect((await warehouseCounts(t.db)).dim_team).toBe(2);
    const row = (await commandRows(t.db, "scope = 'load table dim_team upsert'"))[0]!;
    expect(row).toMatchObject({ status: 'succeeded', initiated_by: OPERATOR });
    await eventually(() => api.posted().find((c) => c.params.text.startsWith('load of table dim_team')));
  });

  it('answers fast commands in the response, from an API Gateway REST event too', async () => {
    const body = slashBody({ text: 'history limit 3', userId: VIEWER });
    const res = await invoke(handler, restEvent(body, signedHeaders(body)));
    expect(res.statusCode).toBe(200);
    expect(readable(JSON.parse(res.body))).toMatch(/id\s+started\s+status/);
  });

  it('reads the form even when a proxy adds a charset to the content type', async () => {
    const body = slashBody({ text: 'help load', userId: VIEWER });
    const res = await invoke(handler, functionUrlEvent(body, { ...signedHeaders(body), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }));
    expect(res.statusCode).toBe(200);
    expect(readable(JSON.parse(res.body))).toContain('load game &lt;id&gt;');
  });

  it('refuses a bad signature with 401 and records it', async () => {
    const body = slashBody({ text: 'load all upsert', userId: OPERATOR });
    const res = await invoke(handler, functionUrlEvent(body, signedHeaders(body, { secret: 'wrong' })));
    expect(res.statusCode).toBe(401);
    const row = await eventually(async () => (await commandRows(t.db, "initiated_by = 'unverified'"))[0]);
    expect(row.warnings.remote).toBe('198.51.100.7');
  });
});

describe('replays and clocks on Lambda', () => {
  it('refuses a request signed more than five minutes in the future with 401, and records it', async () => {
    const body = slashBody({ text: 'counts', userId: VIEWER });
    const res = await invoke(handler, functionUrlEvent(body, signedHeaders(body, { ts: Math.floor(Date.now() / 1000) + 6 * 60 })));
    expect(res.statusCode).toBe(401);
    await eventually(async () => (await commandRows(t.db, "initiated_by = 'unverified' AND error_message LIKE '%in the future%'"))[0]);
  });

  it('runs a signed request once: the same event again, to another container, is refused with 409 and recorded', async () => {
    const other = createLambdaHandler({ config: testConfig({ slackApiUrl: api.url }), db: t.db, log: (l) => logs.push(l) });
    const body = slashBody({ text: 'history limit 1', userId: VIEWER });
    const event = functionUrlEvent(body, signedHeaders(body));
    expect((await invoke(handler, event)).statusCode).toBe(200);
    const replay = await invoke(other, event);
    expect(replay.statusCode).toBe(409);
    const row = await eventually(async () => (await commandRows(t.db, "operation = 'replay' AND scope = 'history limit 1'"))[0]);
    expect(row).toMatchObject({ status: 'refused' });
    expect(row.warnings.remote).toBe('198.51.100.7');
    expect(await commandRows(t.db, "scope = 'history limit 1' AND initiated_by = $1", [VIEWER])).toHaveLength(1);
  });
});
