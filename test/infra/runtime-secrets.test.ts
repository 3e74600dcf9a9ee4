/**
 * loader/aws/secrets.ts: the functions read their secrets at run time from Secrets
 * Manager (a local stand-in speaking its protocol), once per cold start, and never put
 * a value in an error.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSecretCache, readSecret, resolveDatabaseUrl, SecretError, secretFromEnv } from '../../loader/aws/secrets';
import { startFakeSecretsManager, type FakeSecretsManager } from './support/fake-secrets-manager';

const DB_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bs/database-url-loader-AbCdEf';
const DB_URL = 'postgresql://bs_loader:S3cr3t-Value-9z@db.example.com:5432/postgres?sslmode=require';
const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bs/slack-bot-token-AbCdEf';

let sm: FakeSecretsManager;
let client: SecretsManagerClient;
beforeAll(async () => {
  sm = await startFakeSecretsManager({ [DB_ARN]: DB_URL, [TOKEN_ARN]: 'xoxb-fake', 'bs/not-a-url': 'S3cr3t-Value-9z', 'bs/binary': null });
  client = new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  client.destroy();
  await sm.close();
});
beforeEach(() => {
  clearSecretCache();
  sm.calls.length = 0;
});

const read = (arn: string) => readSecret(arn, { client });

describe('runtime secrets', () => {
  it('reads a secret once per cold start', async () => {
    expect(await read(TOKEN_ARN)).toBe('xoxb-fake');
    expect(await Promise.all([read(TOKEN_ARN), read(TOKEN_ARN)])).toEqual(['xoxb-fake', 'xoxb-fake']);
    expect(sm.calls).toEqual([TOKEN_ARN]);
  });

  it('uses DATABASE_URL as it is when set (local runs), without asking Secrets Manager', async () => {
    expect(await resolveDatabaseUrl({ DATABASE_URL: 'postgres://local/db', DATABASE_SECRET_ARN: DB_ARN }, read)).toBe('postgres://local/db');
    expect(sm.calls).toEqual([]);
  });

  it('reads the connection string from the secret DATABASE_SECRET_ARN names', async () => {
    expect(await resolveDatabaseUrl({ DATABASE_SECRET_ARN: DB_ARN }, read)).toBe(DB_URL);
    expect(await secretFromEnv('SLACK_BOT_TOKEN_SECRET_ARN', { SLACK_BOT_TOKEN_SECRET_ARN: TOKEN_ARN }, read)).toBe('xoxb-fake');
  });

  it('says what is missing, naming secrets but never their values', async () => {
    await expect(resolveDatabaseUrl({}, read)).rejects.toThrow(/set DATABASE_URL, or DATABASE_SECRET_ARN/);
    const notUrl = await resolveDatabaseUrl({ DATABASE_SECRET_ARN: 'bs/not-a-url' }, read).catch((e: Error) => e);
    expect(notUrl).toBeInstanceOf(SecretError);
    expect((notUrl as Error).message).toBe('secret bs/not-a-url (DATABASE_SECRET_ARN) does not hold a postgres:// connection string');
    expect((notUrl as Error).message).not.toContain('S3cr3t');
    await expect(read('bs/missing')).rejects.toThrow(/cannot read secret bs\/missing: ResourceNotFoundException/);
    await expect(read('bs/binary')).rejects.toThrow('secret bs/binary holds no string value');
    await expect(secretFromEnv('SLACK_SIGNING_SECRET_ARN', {}, read)).rejects.toThrow('SLACK_SIGNING_SECRET_ARN is not set');
  });

  it('does not cache a failure: the next call tries again', async () => {
    await expect(read('bs/later')).rejects.toThrow(SecretError);
    sm.secrets.set('bs/later', 'now-here');
    expect(await read('bs/later')).toBe('now-here');
    expect(sm.calls).toEqual(['bs/later', 'bs/later']);
  });
});
