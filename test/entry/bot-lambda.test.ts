/**
 * The deployed bot Lambda (loader/entry/bot-lambda.ts): its settings and secrets read from
 * the environment at the first event, invoked with a real Function URL event against a
 * real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaEvent, LambdaHandler } from '../../bot/lambda';
import { lambdaHandlerFromEnv } from '../../loader/entry/bot-lambda';
import { folderSource } from '../../loader/engine';
import { functionUrlEvent, leagueFolder, readable, SECRET, signedHeaders, slashBody, TEAM } from '../bot/support/slack';
import { freshDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

const invoke = (h: LambdaHandler, event: unknown) => h(event as LambdaEvent, {});

describe('the deployed handler', () => {
  it('reads the Slack secrets and the database URL from Secrets Manager by ARN at the first event', async () => {
    const secrets: Record<string, string> = {
      'arn:signing': SECRET,
      'arn:token': 'xoxb-from-secrets-manager',
      'arn:db': t.url,
    };
    const reads: string[] = [];
    const deployed = lambdaHandlerFromEnv({
      env: {
        SLACK_SIGNING_SECRET_ARN: 'arn:signing',
        SLACK_BOT_TOKEN_SECRET_ARN: 'arn:token',
        DATABASE_SECRET_ARN: 'arn:db',
        SLACK_TEAM_ID: TEAM,
        SLACK_ROLES: JSON.stringify({ admins: [], operators: [], viewers: ['*'] }),
      },
      read: async (arn) => {
        reads.push(arn);
        return secrets[arn]!;
      },
      source: async () => folderSource(leagueFolder()),
    });
    for (let i = 0; i < 2; i++) {
      const body = slashBody({ text: 'health', userId: 'U0ANYONE' });
      const res = await invoke(deployed, functionUrlEvent(body, signedHeaders(body)));
      expect(res.statusCode).toBe(200);
      expect(readable(JSON.parse(res.body))).toContain('database: reachable');
    }
    expect(reads.sort()).toEqual(['arn:db', 'arn:signing', 'arn:token']);
  });

  it('says which setting is missing', async () => {
    const broken = lambdaHandlerFromEnv({ env: { SLACK_TEAM_ID: TEAM }, read: async () => 'x' });
    const body = slashBody({ text: 'health' });
    await expect(invoke(broken, functionUrlEvent(body, signedHeaders(body)))).rejects.toThrow(/SLACK_SIGNING_SECRET_ARN is not set/);
  });
});

describe('the ack path of a cold start', () => {
  it('loads the ETL commands only when one is first run, and once', async () => {
    const { lazyExtensions } = await import('../../loader/entry/bot-lambda');
    let loads = 0;
    const ext = lazyExtensions(t.db, async () => {
      loads++;
      return import('../../loader/entry/bot-deferred');
    });
    expect(loads).toBe(0);
    const status = await ext.etlStatus();
    expect(status.ok).toBe(true);
    await ext.etlStatus();
    expect(loads).toBe(1);
  });
});
