/**
 * The stack's configuration: validated once, with messages that name the setting and
 * say how to set it, and never repeat a secret value.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configKey, parseStackConfig, SECRET_SETTINGS, SETTINGS, StackConfigError } from '../../infra/config';
import { baseConfig, FAKE, runStack } from './support/stack';

const errorOf = (config: Record<string, string>): string => {
  try {
    parseStackConfig(config);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('stack configuration', () => {
  it('accepts the complete configuration and fills in the defaults', () => {
    const c = parseStackConfig(baseConfig());
    expect(c).toMatchObject({
      region: 'eu-west-1',
      namePrefix: 'bs-test',
      databaseMode: 'supabase',
      slackRoles: { admins: ['U1'], operators: ['U2'], viewers: ['*'] },
      logRetentionDays: 30,
      loaderMemoryMb: 2048,
      workerSchedule: 'rate(5 minutes)',
      dropBucketForceDestroy: false,
    });
  });

  it('names every missing setting with the command that sets it', () => {
    const message = errorOf({});
    for (const key of [
      'aws:region',
      'benchsight-ops:namePrefix',
      'benchsight-ops:databaseMode',
      'benchsight-ops:databasePasswordSeed',
      'benchsight-ops:slackSigningSecret',
      'benchsight-ops:slackBotToken',
      'benchsight-ops:slackTeamId',
      'benchsight-ops:slackRoles',
      'benchsight-ops:slackNotifyChannel',
    ]) {
      expect(message).toContain(`${key}: is missing`);
    }
    expect(message).toContain('pulumi config set --secret slackBotToken');
  });

  it('needs the connection string for an existing database, and refuses one for rds', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:databaseUrl': undefined }))).toMatch(/benchsight-ops:databaseUrl: is missing: databaseMode supabase/);
    expect(errorOf(baseConfig({ 'benchsight-ops:databaseMode': 'rds' }))).toMatch(/benchsight-ops:databaseUrl: must not be set with databaseMode rds/);
    expect(parseStackConfig(baseConfig({ 'benchsight-ops:databaseMode': 'rds', 'benchsight-ops:databaseUrl': undefined })).databaseMode).toBe('rds');
  });

  it('names each malformed setting and what it should look like', () => {
    const message = errorOf(
      baseConfig({
        'benchsight-ops:slackRoles': '{"admins":["U1"]',
        'benchsight-ops:databaseMode': 'mysql',
        'benchsight-ops:namePrefix': 'BenchSight_Dev',
        'benchsight-ops:slackBotToken': 'xoxp-user-token',
        'benchsight-ops:slackNotifyChannel': '#ops',
        'benchsight-ops:logRetentionDays': '31',
        'benchsight-ops:loaderMemoryMb': 'lots',
      }),
    );
    expect(message).toMatch(/benchsight-ops:slackRoles: is not valid JSON \(expected e\.g\. \{"admins"/);
    expect(message).toMatch(/benchsight-ops:databaseMode: must be supabase .* postgres .* or rds/);
    expect(message).toMatch(/benchsight-ops:namePrefix: must be 3–24 characters/);
    expect(message).toMatch(/benchsight-ops:slackBotToken: must be a bot token \(xoxb-…\)/);
    expect(message).toMatch(/benchsight-ops:slackNotifyChannel: must be a Slack channel id/);
    expect(message).toMatch(/benchsight-ops:logRetentionDays: must be one of CloudWatch's retentions/);
    expect(message).toMatch(/benchsight-ops:loaderMemoryMb: must be a whole number/);
    expect(message).not.toContain('xoxp-user-token');
  });

  it('checks the shape of the roles JSON', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:slackRoles': '{"admins":["U1"],"operators":[]}' }))).toMatch(/benchsight-ops:slackRoles \(viewers\): /);
    expect(errorOf(baseConfig({ 'benchsight-ops:slackRoles': '{"admins":["alice"],"operators":[],"viewers":[]}' }))).toMatch(
      'benchsight-ops:slackRoles (admins.0): a Slack user id (U…/W…) or "*"',
    );
  });

  it('refuses placeholders and a malformed connection string without repeating the secret', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:slackSigningSecret': 'REPLACE_ME' }))).toMatch(/benchsight-ops:slackSigningSecret: is still the placeholder/);
    const message = errorOf(baseConfig({ 'benchsight-ops:databaseUrl': `postgresql://postgres:${FAKE.adminPassword}@db.example.com:5432` }));
    expect(message).toMatch(/benchsight-ops:databaseUrl: is not a usable connection string: names no database/);
    expect(message).not.toContain(FAKE.adminPassword);
  });

  it('refuses a setting the stack does not know (a typo)', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:slackTeamID': 'T1' }))).toContain('benchsight-ops:slackTeamID: is not a setting of this stack');
  });

  it('Pulumi.dev.yaml holds a complete dev configuration: only the secrets are left to set', () => {
    const root = path.resolve(__dirname, '../..');
    const config: Record<string, string> = {};
    for (const line of readFileSync(path.join(root, 'Pulumi.dev.yaml'), 'utf8').split('\n')) {
      const m = /^ {2}(aws:region|benchsight-ops:\w+): (.*)$/.exec(line);
      if (m) config[m[1]!] = m[2]!.replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
    }
    const problems = errorOf(config)
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    expect(problems.sort()).toEqual(
      SECRET_SETTINGS.filter((k) => k in config || `benchsight-ops:${k}` in config)
        .map((k) => `${configKey(k)}: is still the placeholder of Pulumi.<stack>.yaml: set the real value with --secret`)
        .sort(),
    );
    expect(problems).toHaveLength(SECRET_SETTINGS.length);
    for (const k of SECRET_SETTINGS)
      config[configKey(k)] =
        k === 'databaseUrl'
          ? 'postgresql://u:p@h:5432/postgres'
          : k === 'slackBotToken'
            ? 'xoxb-1'
            : k === 'slackSigningSecret'
              ? 'a'.repeat(32)
              : 'b'.repeat(32);
    expect(parseStackConfig(config).namePrefix).toBe('benchsight-dev');
  });

  it('documents every setting in infra/README.md', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../infra/README.md'), 'utf8');
    for (const setting of SETTINGS) expect(readme, setting).toContain(setting === 'region' ? '`aws:region`' : `\`${setting}\``);
  });

  it('stops the program itself, naming the bad setting', async () => {
    await expect(runStack(baseConfig({ 'benchsight-ops:slackRoles': 'admins=U1' }))).rejects.toThrow(/benchsight-ops:slackRoles: is not valid JSON/);
  });
});
