/**
 * The deployed Portal Lambda (loader/entry/portal-lambda.ts) with real Function URL events
 * against a real database: its settings and secrets read at the first event, a Supabase
 * token accepted, a load accepted (202) as a `command` job on the queue that the worker
 * Lambda runs, its record followed to the end, and the built page served.
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandJobHandler, COMMAND_JOB } from '../../bot/worker-jobs';
import { folderSource } from '../../loader/engine';
import { portalHandlerFromEnv } from '../../loader/entry/portal-lambda';
import { createWorkerHandler } from '../../loader/entry/worker-lambda';
import { ensureUiBuilt } from '../../portal/ui-build';
import { freshDatabase, type TestDatabase } from '../support/database';
import { folderWith, miniLeagueFiles } from '../support/fixtures';

const SUPABASE = 'https://abcdefgh.supabase.co';
const SECRET = 'the-projects-legacy-jwt-secret-0123456789';
let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

function event(method: string, pathAndQuery: string, o: { token?: string; json?: unknown } = {}): LambdaFunctionURLEvent {
  const [rawPath, rawQueryString = ''] = pathAndQuery.split('?');
  const host = 'abc123.lambda-url.eu-west-1.on.aws';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: rawPath!,
    rawQueryString,
    headers: { host, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: host,
      domainPrefix: 'abc123',
      http: { method, path: rawPath!, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: o.json !== undefined ? JSON.stringify(o.json) : undefined,
    isBase64Encoded: false,
  };
}

type Res = { statusCode: number; body: string; headers?: Record<string, string> };
const invoke = (h: ReturnType<typeof portalHandlerFromEnv>, e: LambdaFunctionURLEvent) => (h as unknown as (e: unknown, c: unknown) => Promise<Res>)(e, {});

const token = (email: string) =>
  new SignJWT({ email })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`sub-${email}`)
    .setIssuer(`${SUPABASE}/auth/v1`)
    .setAudience('authenticated')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

describe('the deployed Portal', () => {
  it('reads its secrets once, accepts a Supabase token, queues a load for the worker and follows it to its end', async () => {
    const reads: string[] = [];
    const secrets: Record<string, string> = { 'arn:db': t.url, 'arn:jwt': SECRET };
    const handler = portalHandlerFromEnv({
      env: {
        DATABASE_SECRET_ARN: 'arn:db',
        SUPABASE_URL: SUPABASE,
        SUPABASE_JWT_SECRET_ARN: 'arn:jwt',
        PORTAL_ROLES: JSON.stringify({ operators: ['otto@league.example'], viewers: ['*'] }),
      },
      read: async (arn) => (reads.push(arn), secrets[arn]!),
      uiDir: await ensureUiBuilt(),
    });
    const otto = await token('otto@league.example');
    const counts = await invoke(handler, event('GET', '/api/tables/counts', { token: otto }));
    expect(counts.statusCode).toBe(200);
    expect((await invoke(handler, event('GET', '/api/tables/counts'))).statusCode).toBe(401);
    const accepted = await invoke(handler, event('POST', '/api/load/table', { token: otto, json: { table: 'dim_team', operation: 'upsert' } }));
    expect(accepted.statusCode).toBe(202);
    const job = JSON.parse(accepted.body).job;
    const queued = await t.db.query<{ operation: string; payload: { auditId: number; userId: string } }>('SELECT operation, payload FROM etl_queue');
    expect(queued.rows[0]).toMatchObject({ operation: COMMAND_JOB, payload: { auditId: job.id, userId: 'portal:otto@league.example' } });

    // The worker Lambda runs it, as it runs Slack's queued commands.
    const worker = createWorkerHandler({
      resolveUrl: async () => t.url,
      handlers: { [COMMAND_JOB]: commandJobHandler({ source: async () => folderSource(folderWith(miniLeagueFiles())) }) },
      log: () => undefined,
    });
    await worker({}, { awsRequestId: 'w1', getRemainingTimeInMillis: () => 120_000 });
    const view = JSON.parse((await invoke(handler, event('GET', `/api/jobs/${job.id}`, { token: otto }))).body);
    expect(view).toMatchObject({ state: 'succeeded', by: 'portal:otto@league.example' });
    expect(view.load.tables[0]).toMatchObject({ table: 'dim_team', inserted: 2 });
    expect(reads.sort()).toEqual(['arn:db', 'arn:jwt']);
  });

  it('serves the built page with its Content Security Policy, and the OpenAPI document', async () => {
    const handler = portalHandlerFromEnv({
      env: { DATABASE_URL: t.url, SUPABASE_URL: SUPABASE, SUPABASE_JWT_SECRET: SECRET, PORTAL_ROLES: '{"viewers":["*"]}' },
      uiDir: await ensureUiBuilt(),
    });
    const page = await invoke(handler, event('GET', '/'));
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-security-policy']).toContain(`connect-src 'self' ${SUPABASE}`);
    expect(page.body).toContain('<div id="app">');
    const doc = await invoke(handler, event('GET', '/api/openapi.json'));
    expect(JSON.parse(doc.body).paths['/api/upload/presign']).toBeDefined();
  });
});
