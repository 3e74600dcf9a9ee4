/**
 * The stack's configuration: validated once, with messages that name the setting and
 * say how to set it, and never repeat a secret value.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as pulumi from '@pulumi/pulumi';
import { configKey, loadStackConfig, parseStackConfig, SECRET_SETTINGS, SETTINGS, StackConfigError, UNRESERVED } from '../../infra/config';
import { baseConfig, FAKE, runStack, SECRET_KEYS } from './support/stack';

/** The settings of Pulumi.<stack>.yaml (its `config:` map, one line each). */
function stackFile(stack: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const line of readFileSync(path.resolve(__dirname, `../../Pulumi.${stack}.yaml`), 'utf8').split('\n')) {
    const m = /^ {2}(aws:region|benchsight-ops:\w+): (.*)$/.exec(line);
    if (m) config[m[1]!] = m[2]!.replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
  }
  return config;
}

/** A value of the right shape for a secret setting. */
const realLooking = (k: string) =>
  k === 'databaseUrl' ? 'postgresql://u:p@h:5432/postgres' : k === 'slackBotToken' ? 'xoxb-1' : k === 'slackSigningSecret' ? 'a'.repeat(32) : 'b'.repeat(32);

const errorOf = (config: Record<string, string>, isSecret?: (key: string) => boolean): string => {
  try {
    parseStackConfig(config, isSecret);
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
      roles: { admins: ['U1', 'ada@league.example'], operators: ['U2'], viewers: ['*'] },
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
      'benchsight-ops:roles',
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
        'benchsight-ops:roles': '{"admins":["U1"]',
        'benchsight-ops:databaseMode': 'mysql',
        'benchsight-ops:namePrefix': 'BenchSight_Dev',
        'benchsight-ops:slackBotToken': 'xoxp-user-token',
        'benchsight-ops:slackNotifyChannel': '#ops',
        'benchsight-ops:logRetentionDays': '31',
        'benchsight-ops:loaderMemoryMb': 'lots',
      }),
    );
    expect(message).toMatch(/benchsight-ops:roles: is not valid JSON \(expected e\.g\. \{"admins"/);
    expect(message).toMatch(/benchsight-ops:databaseMode: must be supabase .* postgres .* or rds/);
    expect(message).toMatch(/benchsight-ops:namePrefix: must be 3–24 characters/);
    expect(message).toMatch(/benchsight-ops:slackBotToken: must be a bot token \(xoxb-…\)/);
    expect(message).toMatch(/benchsight-ops:slackNotifyChannel: must be a Slack channel id/);
    expect(message).toMatch(/benchsight-ops:logRetentionDays: must be one of CloudWatch's retentions/);
    expect(message).toMatch(/benchsight-ops:loaderMemoryMb: must be a whole number/);
    expect(message).not.toContain('xoxp-user-token');
  });

  it('checks the shape of the roles JSON', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:roles': '{"admins":["U1"],"operators":[]}' }))).toMatch(/benchsight-ops:roles \(viewers\): /);
    expect(errorOf(baseConfig({ 'benchsight-ops:roles': '{"admins":["alice"],"operators":[],"viewers":[]}' }))).toMatch(
      'benchsight-ops:roles (admins.0): a Slack user id (U…/W…), an e-mail, a Supabase user id (uuid) or "*"',
    );
  });

  it('roles is one setting: the older slackRoles alone still works, beside roles it is refused', () => {
    const older = parseStackConfig(
      baseConfig({ 'benchsight-ops:roles': undefined, 'benchsight-ops:slackRoles': '{"admins":["U9"],"operators":[],"viewers":["*"]}' }),
    );
    expect(older.slackRoles).toEqual({ admins: ['U9'], operators: [], viewers: ['*'] });
    expect(errorOf(baseConfig({ 'benchsight-ops:slackRoles': '{"admins":["U9"],"operators":[],"viewers":["*"]}' }))).toMatch(
      /benchsight-ops:slackRoles: is an older name of roles, which is set: keep the one setting, roles/,
    );
    expect(errorOf(baseConfig({ 'benchsight-ops:portalRoles': '{"admins":["ada@league.example"],"viewers":["*"]}' }))).toMatch(
      /benchsight-ops:portalRoles: is an older name of roles/,
    );
  });

  it('refuses placeholders and a malformed connection string without repeating the secret', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:slackSigningSecret': 'REPLACE_ME' }))).toMatch(/benchsight-ops:slackSigningSecret: is still the placeholder/);
    const message = errorOf(baseConfig({ 'benchsight-ops:databaseUrl': `postgresql://postgres:${FAKE.adminPassword}@db.example.com:5432` }));
    expect(message).toMatch(/benchsight-ops:databaseUrl: is not a usable connection string: names no database/);
    expect(message).not.toContain(FAKE.adminPassword);
  });

  it('refuses schedules and name prefixes AWS would refuse on the first pulumi up', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:workerSchedule': 'rate(1 minutes)' }))).toContain(
      'benchsight-ops:workerSchedule: "rate(1 minutes)": AWS wants rate(1 minute)',
    );
    expect(errorOf(baseConfig({ 'benchsight-ops:workerSchedule': 'cron(0 * * * *)' }))).toMatch(
      /workerSchedule: "cron\(0 \* \* \* \*\)": a cron expression has 6 fields/,
    );
    expect(errorOf(baseConfig({ 'benchsight-ops:workerSchedule': 'cron(0 6 * * MON *)' }))).toMatch(/one of day-of-month and day-of-week must be "\?"/);
    expect(parseStackConfig(baseConfig({ 'benchsight-ops:workerSchedule': 'cron(0/15 * * * ? *)' })).workerSchedule).toBe('cron(0/15 * * * ? *)');
    expect(errorOf(baseConfig({ 'benchsight-ops:namePrefix': 'bench--dev' }))).toMatch(/namePrefix: .*RDS refuses "--"/);
  });

  it('takes the RDS network as a VPC and its subnets together', () => {
    const rds = { 'benchsight-ops:databaseMode': 'rds', 'benchsight-ops:databaseUrl': undefined };
    expect(errorOf(baseConfig({ ...rds, 'benchsight-ops:rdsVpcId': 'vpc-0abc' }))).toContain(
      'benchsight-ops:rdsSubnetIds: rdsVpcId and rdsSubnetIds go together',
    );
    expect(errorOf(baseConfig({ ...rds, 'benchsight-ops:rdsVpcId': 'vpc-0abc', 'benchsight-ops:rdsSubnetIds': '["subnet-0a"]' }))).toMatch(
      /rdsSubnetIds: must list at least two subnets/,
    );
  });

  it('reads reserved concurrency as a number, or unreserved, and refuses 0 (a stopped function)', () => {
    const c = parseStackConfig(baseConfig({ 'benchsight-ops:botConcurrency': 'unreserved', 'benchsight-ops:loaderConcurrency': '10' }));
    expect([c.loaderConcurrency, c.workerConcurrency, c.botConcurrency]).toEqual([10, 1, UNRESERVED]);
    expect(errorOf(baseConfig({ 'benchsight-ops:workerConcurrency': '0' }))).toMatch(/workerConcurrency: must be at least 1 \(0 would stop the function/);
  });

  it('refuses a secret stored in plain text in the stack file, without repeating it', () => {
    const secret = (k: string) => k !== 'benchsight-ops:slackBotToken';
    const message = errorOf(baseConfig(), secret);
    expect(message).toContain(
      'benchsight-ops:slackBotToken: is stored in plain text in Pulumi.<stack>.yaml: set it with `pulumi config set --secret slackBotToken <value>`',
    );
    expect(message).not.toContain(FAKE.botToken);
    expect(message.split('\n')).toHaveLength(2);
  });

  it('reads which settings Pulumi holds as secrets, and gives them as secret Outputs', async () => {
    pulumi.runtime.setAllConfig(
      baseConfig(),
      SECRET_KEYS.filter((k) => k !== 'benchsight-ops:databasePasswordSeed'),
    );
    expect(() => loadStackConfig()).toThrow(/benchsight-ops:databasePasswordSeed: is stored in plain text/);
    pulumi.runtime.setAllConfig(baseConfig(), SECRET_KEYS);
    const c = loadStackConfig();
    expect(await pulumi.isSecret(c.slack.botToken)).toBe(true);
    expect(await pulumi.isSecret(c.databasePasswordSeed)).toBe(true);
  });

  it('refuses a setting the stack does not know (a typo)', () => {
    expect(errorOf(baseConfig({ 'benchsight-ops:slackTeamID': 'T1' }))).toContain('benchsight-ops:slackTeamID: is not a setting of this stack');
  });

  for (const [stack, prefix] of [
    ['dev', 'benchsight-dev'],
    ['prod', 'benchsight-prod'],
  ] as const)
    it(`Pulumi.${stack}.yaml holds a complete ${stack} configuration: only the secrets are left to set`, () => {
      const config = stackFile(stack);
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
      for (const k of SECRET_SETTINGS) config[configKey(k)] = realLooking(k);
      expect(parseStackConfig(config).namePrefix).toBe(prefix);
    });

  it('protects dev and prod alike, and keeps prod resources when its stack is destroyed', () => {
    const fill = (c: Record<string, string>) => ({ ...c, ...Object.fromEntries(SECRET_SETTINGS.map((k) => [configKey(k), realLooking(k)])) });
    const dev = parseStackConfig(fill(stackFile('dev')));
    const prod = parseStackConfig(fill(stackFile('prod')));
    expect([dev.protect, dev.retainOnDelete, dev.dropBucketForceDestroy]).toEqual([false, false, true]);
    expect([prod.protect, prod.retainOnDelete, prod.dropBucketForceDestroy, prod.apiAnonRead]).toEqual([true, true, false, false]);
  });

  it('documents every setting in infra/README.md', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../infra/README.md'), 'utf8');
    for (const setting of SETTINGS) expect(readme, setting).toContain(setting === 'region' ? '`aws:region`' : `\`${setting}\``);
  });

  it('stops the program itself, naming the bad setting', async () => {
    await expect(runStack(baseConfig({ 'benchsight-ops:roles': 'admins=U1' }))).rejects.toThrow(/benchsight-ops:roles: is not valid JSON/);
  }, 180_000);
});
